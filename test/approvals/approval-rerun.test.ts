// Approvals found by their binding: a client that timed out, or cannot wait, runs the command
// again once it was approved, and the PDP (on Redis) consumes that approval, once, for exactly
// the command, principal and resource it was granted for.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { RedisServer } from '../support/redis-server.ts';
import { eventually } from '../support/eventually.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { deleteOrder, longPoll, reasonCodes, requestApproval, vote } from './approval-fixtures.ts';
import { auditBodyOf } from '@portcullis/pdp';

/** A second production database the copied policy knows, to ask about another resource. */
const REPLICA_DB = { type: 'postgres', name: 'orders-db-replica', environment: 'production' };

function kubectlDelete(subjectToken: string, pod: string) {
  return { subject_token: subjectToken, resource: { type: 'kubernetes', name: 'prod-cluster', environment: 'production' }, action: { type: 'kubernetes', method: 'DELETE', path: `/api/v1/namespaces/shop/pods/${pod}` } };
}

function approvalOf(decision: Record<string, unknown>): { id: string; status: string } {
  return decision.approval as { id: string; status: string };
}

describe('a re-run of an approved command consumes its approval (Redis store)', () => {
  let redis: RedisServer;
  let folder: string;
  let pdp: TestPdp;
  let agent: string;
  let alice: string;

  before(async () => {
    redis = await RedisServer.start();
    // The starter policy with one more production database.
    folder = mkdtempSync(join(tmpdir(), 'portcullis-rerun-policy-'));
    cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(folder, 'portcullis'), { recursive: true });
    const dataFile = join(folder, 'portcullis/data.json');
    const data = JSON.parse(readFileSync(dataFile, 'utf8'));
    data.resources[REPLICA_DB.name] = { type: REPLICA_DB.type, environment: REPLICA_DB.environment };
    writeFileSync(dataFile, JSON.stringify(data));
    pdp = await startTestPdp({ PORTCULLIS_REDIS_URL: redis.url, PORTCULLIS_POLICY_DIR: folder });
    agent = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
  });
  after(async () => {
    await pdp?.close();
    await redis?.kill();
    rmSync(folder, { recursive: true, force: true });
  });

  const granted = async (body: unknown): Promise<{ id: string; decision: Record<string, unknown> }> => {
    const requested = await requestApproval(pdp, body);
    assert.equal((await vote(pdp.url, alice, requested.id, 'approve', 'ticket OPS-7')).status, 200);
    return requested;
  };

  test('a re-run that differs only in what records withhold (a password) is another command: it asks anew', async () => {
    const dba = await pdp.token({ sub: 'dana', roles: ['dba'], kind: 'human' });
    const bob = await pdp.consoleToken({ sub: 'bob', roles: ['approver'], kind: 'human' });
    const alterRole = (password: string) => ({ subject_token: dba, resource: { type: 'postgres', name: 'orders-db', environment: 'production' }, action: { type: 'sql', sql: `ALTER ROLE reporting PASSWORD '${password}'` } });
    const requested = await requestApproval(pdp, alterRole('Approved-Pw-1'));
    assert.equal((await vote(pdp.url, alice, requested.id, 'approve', 'rotation OPS-9')).status, 200);
    assert.equal((await vote(pdp.url, bob, requested.id, 'approve', 'rotation OPS-9')).status, 200);

    // The approver saw the text with the password withheld; another password is not what was approved.
    const other = await pdp.decide(alterRole('Attacker-Pw-2'));
    assert.equal(other.body.effect, 'approval_required', JSON.stringify(other.body));
    assert.notEqual(approvalOf(other.body).id, requested.id);
    const presented = await pdp.decide({ ...alterRole('Attacker-Pw-2'), approval_id: requested.id });
    assert.equal(presented.body.effect, 'deny');
    assert.deepEqual(reasonCodes(presented.body), ['approval-binding-mismatch']);

    const exact = await pdp.decide(alterRole('Approved-Pw-1'));
    assert.equal(exact.body.effect, 'allow', JSON.stringify(exact.body));
  });

  test('the same command sent again after the grant is allowed once, with no approval id; a third run asks again', async () => {
    const { id, decision } = await granted(deleteOrder(agent, 401));
    const rerun = await pdp.decide(deleteOrder(agent, 401));
    assert.equal(rerun.body.effect, 'allow');
    assert.equal(reasonCodes(rerun.body)[0], 'approval-granted');
    assert.deepEqual({ id: approvalOf(rerun.body).id, status: approvalOf(rerun.body).status }, { id, status: 'executed' });

    const third = await pdp.decide(deleteOrder(agent, 401));
    assert.equal(third.body.effect, 'approval_required');
    assert.notEqual(approvalOf(third.body).id, id, 'a new approval request');
    assert.equal(approvalOf(third.body).status, 'pending');

    const events = (await pdp.auditEvents('approvals')).map((record: any) => auditBodyOf(record) as any).filter((body: any) => body.approval.id === id);
    assert.deepEqual(events.map((body: any) => body.event), ['approval.requested', 'approval.approved', 'approval.executed']);
    const decisions = (await pdp.auditEvents('decisions')).map((record: any) => auditBodyOf(record) as any);
    assert.equal(decisions.find((body: any) => body.decision_id === decision.decision_id).approval.status, 'pending');
    assert.deepEqual(decisions.find((body: any) => body.decision_id === rerun.body.decision_id).approval, { id, status: 'executed' });
  });

  test('a re-run of kubectl delete is allowed once its approval was granted', async () => {
    const { id } = await granted(kubectlDelete(agent, 'web-7f9c'));
    const rerun = await pdp.decide(kubectlDelete(agent, 'web-7f9c'));
    assert.equal(rerun.body.effect, 'allow');
    assert.equal(approvalOf(rerun.body).id, id);
  });

  test('a Secret write: approvers and records see its keys, never its values, and another value is another command', async () => {
    const secretPut = (password: string) => {
      const secret = {
        apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ stringData: { password } }) } },
        type: 'Opaque', data: { password: Buffer.from(password).toString('base64') }, stringData: { note: password },
      };
      return { subject_token: agent, resource: { type: 'kubernetes', name: 'prod-cluster', environment: 'production' }, action: { type: 'kubernetes', method: 'PUT', path: '/api/v1/namespaces/shop/secrets/db', body: secret, object: secret } };
    };
    const requested = await requestApproval(pdp, secretPut('Approved-Secret-1'));
    const shown = await fetch(`${pdp.url}/v1/approvals/${requested.id}`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(shown.status, 200);
    const view = JSON.stringify(await shown.json());
    assert.ok(view.includes('"password"'), 'the keys show');
    for (const value of ['Approved-Secret-1', Buffer.from('Approved-Secret-1').toString('base64')]) assert.ok(!view.includes(value), `the approval shows ${value}`);
    assert.equal((await vote(pdp.url, alice, requested.id, 'approve', 'rotation OPS-11')).status, 200);

    const other = await pdp.decide(secretPut('Attacker-Secret-2'));
    assert.equal(other.body.effect, 'approval_required', JSON.stringify(other.body));
    assert.notEqual(approvalOf(other.body).id, requested.id);
    const exact = await pdp.decide(secretPut('Approved-Secret-1'));
    assert.equal(exact.body.effect, 'allow', JSON.stringify(exact.body));
    assert.equal(approvalOf(exact.body).id, requested.id);

    const trail = JSON.stringify([...(await pdp.auditEvents('decisions')), ...(await pdp.auditEvents('approvals'))]);
    for (const value of ['Approved-Secret-1', 'Attacker-Secret-2', Buffer.from('Approved-Secret-1').toString('base64')]) assert.ok(!trail.includes(value), `the audit trail holds ${value}`);
    assert.ok(trail.includes('/api/v1/namespaces/shop/secrets/db'), 'the trail records the writes');
  });

  test('another command, principal or resource does not match the granted approval, which stays for its own command', async () => {
    const { id } = await granted(deleteOrder(agent, 402));
    const other = await pdp.token({ sub: 'agent:other', roles: ['writer'] });
    const variants = [
      deleteOrder(agent, 403),
      deleteOrder(other, 402),
      { ...deleteOrder(agent, 402), resource: REPLICA_DB },
    ];
    for (const variant of variants) {
      const answer = await pdp.decide(variant);
      assert.equal(answer.body.effect, 'approval_required', JSON.stringify(variant.resource));
      assert.notEqual(approvalOf(answer.body).id, id);
    }
    assert.equal((await longPoll(pdp.url, pdp.pepToken, id, 0)).body.approval.status, 'approved');
    const own = await pdp.decide(deleteOrder(agent, 402));
    assert.equal(own.body.effect, 'allow');
    assert.equal(approvalOf(own.body).id, id);
  });

  test('bound values are part of the command: other parameters do not match', async () => {
    const withValue = (value: string) => ({ ...deleteOrder(agent, 0), action: { type: 'sql', sql: 'DELETE FROM orders WHERE id = $1', parameters: [{ value }] } });
    const { id } = await granted(withValue('404'));
    const otherValue = await pdp.decide(withValue('405'));
    assert.equal(otherValue.body.effect, 'approval_required');
    assert.notEqual(approvalOf(otherValue.body).id, id);
    const sameValue = await pdp.decide(withValue('404'));
    assert.equal(sameValue.body.effect, 'allow');
    assert.equal(approvalOf(sameValue.body).id, id);
  });

  test('concurrent re-runs: exactly one is allowed', async () => {
    const { id } = await granted(deleteOrder(agent, 406));
    const answers = await Promise.all(Array.from({ length: 8 }, () => pdp.decide(deleteOrder(agent, 406))));
    const allowed = answers.filter((answer) => answer.body.effect === 'allow');
    assert.equal(allowed.length, 1, JSON.stringify(answers.map((answer) => answer.body.effect)));
    assert.equal(approvalOf(allowed[0]!.body).id, id);
    for (const answer of answers.filter((other) => other !== allowed[0])) {
      assert.equal(answer.body.effect, 'approval_required');
      assert.notEqual(approvalOf(answer.body).id, id);
    }
    assert.equal((await longPoll(pdp.url, pdp.pepToken, id, 0)).body.approval.status, 'executed');
  });

  test('a denied approval is not consumed: the re-run asks again', async () => {
    const { id } = await requestApproval(pdp, deleteOrder(agent, 407));
    assert.equal((await vote(pdp.url, alice, id, 'deny', 'not during the freeze')).status, 200);
    const rerun = await pdp.decide(deleteOrder(agent, 407));
    assert.equal(rerun.body.effect, 'approval_required');
    assert.notEqual(approvalOf(rerun.body).id, id);
    assert.equal((await longPoll(pdp.url, pdp.pepToken, id, 0)).body.approval.status, 'denied');
  });

  test('a deferred ask (no values yet) neither opens nor consumes an approval', async () => {
    const { id } = await granted(deleteOrder(agent, 408));
    const deferred = await pdp.decide({ ...deleteOrder(agent, 408), defer_approval: true });
    assert.equal(deferred.body.effect, 'approval_required');
    assert.equal(deferred.body.approval, undefined);
    assert.equal((await longPoll(pdp.url, pdp.pepToken, id, 0)).body.approval.status, 'approved');
  });
});

describe('an approval granted but not used in time is not consumed by a re-run (Redis store)', () => {
  let redis: RedisServer;
  let pdp: TestPdp;

  before(async () => {
    redis = await RedisServer.start();
    // The cap on policy's TTL makes a short-lived approval without touching the policy.
    pdp = await startTestPdp({ PORTCULLIS_REDIS_URL: redis.url, PORTCULLIS_APPROVAL_MAX_TTL_SECONDS: '3' });
  });
  after(async () => {
    await pdp?.close();
    await redis?.kill();
  });

  test('the re-run after its expiry asks again, and the stale approval stays unused', async () => {
    const agent = await pdp.token({ sub: 'agent:slow', roles: ['writer'] });
    const alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const { id, decision } = await requestApproval(pdp, deleteOrder(agent, 409));
    assert.equal((await vote(pdp.url, alice, id, 'approve', 'ticket OPS-9')).status, 200);
    const expiresAt = Date.parse((decision.approval as { expires_at: string }).expires_at);
    // The deadline itself is what is waited for: the approval is usable until expires_at.
    await eventually('the approval passed its expiry', () => Date.now() > expiresAt + 100, { timeoutMs: 10_000 });
    const rerun = await pdp.decide(deleteOrder(agent, 409));
    assert.equal(rerun.body.effect, 'approval_required');
    assert.notEqual(approvalOf(rerun.body).id, id);
    assert.equal((await longPoll(pdp.url, pdp.pepToken, id, 0)).body.approval.status, 'approved', 'approved, never executed');
  });
});
