// The approval flow through the real PDP on a real Redis: a held command is released by an
// approver, runs once, and only as approved; the rules (no self-approval, quorum, reasons,
// expiry) hold on every path; every transition is in the audit trail.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RedisServer } from '../support/redis-server.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { alterOrders, deleteOrder, longPoll, reasonCodes, requestApproval, vote } from './approval-fixtures.ts';
import { auditBodyOf } from '@portcullis/pdp';

describe('approvals through the PDP (Redis store)', () => {
  let redis: RedisServer;
  let pdp: TestPdp;
  let agent: string;
  let alice: string;
  let bob: string;

  before(async () => {
    redis = await RedisServer.start();
    pdp = await startTestPdp({ PORTCULLIS_REDIS_URL: redis.url });
    agent = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    bob = await pdp.consoleToken({ sub: 'bob', roles: ['approver'], kind: 'human' });
  });
  after(async () => {
    await pdp?.close();
    await redis?.kill();
  });

  test('an approved command is allowed once, for exactly that command, and every step is audited', async () => {
    const { id, decision } = await requestApproval(pdp, deleteOrder(agent, 7));
    const approval = decision.approval as Record<string, unknown>;
    assert.equal(approval.status, 'pending');
    assert.ok(Date.parse(approval.expires_at as string) > Date.now());

    const waiting = longPoll(pdp.url, pdp.pepToken, id, 20);
    const voted = await vote(pdp.url, alice, id, 'approve', 'ticket OPS-42');
    assert.equal(voted.status, 200);
    const released = await waiting;
    assert.equal(released.status, 200);
    assert.equal(released.body.approval.status, 'approved');
    assert.deepEqual(released.body.approval.decisions.map((d: any) => [d.approver, d.verdict, d.reason]), [['alice', 'approve', 'ticket OPS-42']]);
    assert.equal(released.body.approval.binding, undefined, 'the binding hash is never shown');

    // Another command cannot ride on it, nor another principal.
    const otherCommand = await pdp.decide({ ...deleteOrder(agent, 8), approval_id: id });
    assert.equal(otherCommand.body.effect, 'deny');
    assert.deepEqual(reasonCodes(otherCommand.body), ['approval-binding-mismatch']);
    const otherAgent = await pdp.token({ sub: 'agent:other', roles: ['writer'] });
    const otherPrincipal = await pdp.decide({ ...deleteOrder(otherAgent, 7), approval_id: id });
    assert.deepEqual(reasonCodes(otherPrincipal.body), ['approval-binding-mismatch']);

    const granted = await pdp.decide({ ...deleteOrder(agent, 7), approval_id: id });
    assert.equal(granted.body.effect, 'allow');
    assert.equal(reasonCodes(granted.body)[0], 'approval-granted');
    assert.equal((granted.body.approval as Record<string, unknown>).status, 'executed');

    const again = await pdp.decide({ ...deleteOrder(agent, 7), approval_id: id });
    assert.equal(again.body.effect, 'deny');
    assert.deepEqual(reasonCodes(again.body), ['approval-already-used']);

    const events = (await pdp.auditEvents('approvals')).map((record: any) => auditBodyOf(record) as any).filter((body: any) => body.approval.id === id);
    assert.deepEqual(events.map((body: any) => body.event), ['approval.requested', 'approval.approved', 'approval.executed']);
    assert.equal(events[0].approval.decision_id, decision.decision_id);
    assert.equal(events[1].actor.sub, 'alice');
    assert.equal(events[1].approval.reason, 'ticket OPS-42');
    const decisions = (await pdp.auditEvents('decisions')).map((record: any) => auditBodyOf(record) as any);
    const opened = decisions.find((body: any) => body.decision_id === decision.decision_id);
    assert.deepEqual(opened.approval, { id, status: 'pending' });
    const consumed = decisions.find((body: any) => body.decision_id === granted.body.decision_id);
    assert.equal(consumed.effect, 'allow');
    assert.deepEqual(consumed.approval, { id, status: 'executed' });
  });

  test('the requester cannot approve their own request, with any token', async () => {
    // An agent that also holds the approver role.
    const both = await pdp.token({ sub: 'agent:ops-bot', roles: ['writer', 'approver'] });
    const { id } = await requestApproval(pdp, deleteOrder(both, 11));
    // Its agent token is not a console session: it cannot vote at all.
    const sameToken = await vote(pdp.url, both, id, 'approve');
    assert.equal(sameToken.status, 401);
    assert.match(sameToken.body.message, /token-wrong-audience/);
    // A console session of the same subject, whatever its roles, is the requester.
    for (const roles of [['approver'], ['writer', 'approver']]) {
      const console = await pdp.consoleToken({ sub: 'agent:ops-bot', roles });
      const other = await vote(pdp.url, console, id, 'approve');
      assert.equal(other.status, 403);
      assert.equal(other.body.code, 'self-approval');
    }
    const state = await longPoll(pdp.url, pdp.pepToken, id, 0);
    assert.equal(state.body.approval.status, 'pending');
    assert.deepEqual(state.body.approval.decisions, []);
  });

  test('production DDL needs two distinct approvers; one approver voting twice does not count', async () => {
    const dba = await pdp.token({ sub: 'dana', roles: ['dba'], kind: 'human' });
    const { id, decision } = await requestApproval(pdp, alterOrders(dba));
    assert.equal(((decision.obligations as any).approval_requirement).quorum, 2);

    const first = await vote(pdp.url, alice, id, 'approve');
    assert.equal(first.body.approval.status, 'pending');
    const twice = await vote(pdp.url, alice, id, 'approve');
    assert.equal(twice.status, 409);
    assert.equal(twice.body.code, 'already-voted');
    const early = await pdp.decide({ ...alterOrders(dba), approval_id: id });
    assert.deepEqual(reasonCodes(early.body), ['approval-pending']);

    const second = await vote(pdp.url, bob, id, 'approve');
    assert.equal(second.body.approval.status, 'approved');
    const granted = await pdp.decide({ ...alterOrders(dba), approval_id: id });
    assert.equal(granted.body.effect, 'allow');
    assert.match((granted.body.reasons as any[])[0].message, /alice, bob/);
  });

  test('a role the policy did not name cannot vote', async () => {
    const { id } = await requestApproval(pdp, deleteOrder(agent, 12));
    const reader = await pdp.consoleToken({ sub: 'rita', roles: ['reader'], kind: 'human' });
    const refused = await vote(pdp.url, reader, id, 'approve');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'role-not-allowed');
  });

  test('a deny needs a reason, rejects the request, and the waiter gets the reason', async () => {
    const { id } = await requestApproval(pdp, deleteOrder(agent, 13));
    const waiting = longPoll(pdp.url, pdp.pepToken, id, 20);
    const bare = await vote(pdp.url, alice, id, 'deny', '   ');
    assert.equal(bare.status, 400);
    assert.equal(bare.body.code, 'reason-required');
    const denied = await vote(pdp.url, alice, id, 'deny', 'not during the freeze');
    assert.equal(denied.body.approval.status, 'denied');
    const released = await waiting;
    assert.equal(released.body.approval.status, 'denied');
    assert.equal(released.body.approval.decisions[0].reason, 'not during the freeze');
    const late = await vote(pdp.url, bob, id, 'approve');
    assert.equal(late.body.code, 'not-pending');
    const refused = await pdp.decide({ ...deleteOrder(agent, 13), approval_id: id });
    assert.equal(refused.body.effect, 'deny');
    assert.deepEqual(reasonCodes(refused.body), ['approval-denied']);
    const events = (await pdp.auditEvents('approvals')).map((record: any) => auditBodyOf(record) as any).filter((body: any) => body.approval.id === id);
    assert.deepEqual(events.map((body: any) => body.event), ['approval.requested', 'approval.denied']);
    assert.equal(events[1].approval.reason, 'not during the freeze');
  });

  test('bad requests to the approvals API change nothing', async () => {
    const { id } = await requestApproval(pdp, deleteOrder(agent, 14));
    const badVerdict = await fetch(`${pdp.url}/v1/approvals/${id}/votes`, { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' }, body: '{"verdict":"yes"}' });
    assert.equal(badVerdict.status, 400);
    const garbage = await fetch(`${pdp.url}/v1/approvals/${id}/votes`, { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' }, body: '{"verdict":' });
    assert.equal(garbage.status, 400);
    assert.equal(((await garbage.json()) as { code: string }).code, 'malformed-json');
    const badId = await fetch(`${pdp.url}/v1/approvals/not-a-uuid`, { headers: { authorization: `Bearer ${pdp.pepToken}` } });
    assert.equal(badId.status, 400);
    const unknown = await longPoll(pdp.url, pdp.pepToken, '00000000-0000-4000-8000-000000000000', 0);
    assert.equal(unknown.status, 404);
    const tooLong = await fetch(`${pdp.url}/v1/approvals/${id}?wait=100000`, { headers: { authorization: `Bearer ${pdp.pepToken}` } });
    assert.equal(tooLong.status, 400);
    const noToken = await fetch(`${pdp.url}/v1/approvals/${id}`);
    assert.equal(noToken.status, 401);
    // An agent's token is no console session at all; a console session without a console role is forbidden.
    const agentLooks = await fetch(`${pdp.url}/v1/approvals`, { headers: { authorization: `Bearer ${agent}` } });
    assert.equal(agentLooks.status, 401);
    const writerLooks = await fetch(`${pdp.url}/v1/approvals`, { headers: { authorization: `Bearer ${await pdp.consoleToken({ sub: 'wes', roles: ['writer'] })}` } });
    assert.equal(writerLooks.status, 403);
    const forged = await vote(pdp.url, `${alice.slice(0, -4)}AAAA`, id, 'approve');
    assert.equal(forged.status, 401);
    const badApprovalId = await pdp.decide({ ...deleteOrder(agent, 14), approval_id: 'nope' });
    assert.equal(badApprovalId.status, 400);
    const state = await longPoll(pdp.url, pdp.pepToken, id, 0);
    assert.equal(state.body.approval.status, 'pending');
    assert.deepEqual(state.body.approval.decisions, []);
  });

  test('the queue lists pending requests for approvers, with what the approver needs to judge', async () => {
    const { id } = await requestApproval(pdp, deleteOrder(agent, 15));
    const response = await fetch(`${pdp.url}/v1/approvals`, { headers: { authorization: `Bearer ${alice}` } });
    const queue = (await response.json()) as { cursor: string; pending: any[] };
    assert.match(queue.cursor, /^\d+-\d+$/);
    const entry = queue.pending.find((record) => record.id === id);
    assert.ok(entry, 'the new request is in the queue');
    assert.equal(entry.requester.sub, 'agent:billing-bot');
    assert.equal(entry.action.sql, 'DELETE FROM orders WHERE id = 15');
    assert.equal(entry.resource.environment, 'production');
    assert.ok(entry.reasons.length > 0);
  });
});

describe('approvals that nobody answers expire', () => {
  let redis: RedisServer;
  let pdp: TestPdp;

  before(async () => {
    redis = await RedisServer.start();
    // The cap on policy's TTL makes a 1 s approval without touching the policy.
    pdp = await startTestPdp({ PORTCULLIS_REDIS_URL: redis.url, PORTCULLIS_APPROVAL_MAX_TTL_SECONDS: '1' });
  });
  after(async () => {
    await pdp?.close();
    await redis?.kill();
  });

  test('the waiter sees expired, the command is refused, a late vote is refused, and the expiry is audited once', async () => {
    const agent = await pdp.token({ sub: 'agent:slow', roles: ['writer'] });
    const alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const { id } = await requestApproval(pdp, deleteOrder(agent, 21));
    const released = await longPoll(pdp.url, pdp.pepToken, id, 10);
    assert.equal(released.body.approval.status, 'expired');
    const late = await vote(pdp.url, alice, id, 'approve');
    assert.equal(late.body.code, 'expired');
    const refused = await pdp.decide({ ...deleteOrder(agent, 21), approval_id: id });
    assert.deepEqual(reasonCodes(refused.body), ['approval-expired']);
    const events = (await pdp.auditEvents('approvals')).map((record: any) => auditBodyOf(record) as any).filter((body: any) => body.approval.id === id);
    assert.deepEqual(events.map((body: any) => body.event), ['approval.requested', 'approval.expired']);
  });
});

describe('an approval rule that opts into a time-boxed window', () => {
  let redis: RedisServer;
  let pdp: TestPdp;
  let folder: string;

  before(async () => {
    redis = await RedisServer.start();
    // The starter policy with its default approval rule granting a one-hour window.
    folder = mkdtempSync(join(tmpdir(), 'portcullis-window-policy-'));
    cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(folder, 'portcullis'), { recursive: true });
    const dataFile = join(folder, 'portcullis/data.json');
    const data = JSON.parse(readFileSync(dataFile, 'utf8'));
    data.approval_rules.default.window_seconds = 3600;
    writeFileSync(dataFile, JSON.stringify(data));
    pdp = await startTestPdp({ PORTCULLIS_REDIS_URL: redis.url, PORTCULLIS_POLICY_DIR: folder });
  });
  after(async () => {
    await pdp?.close();
    await redis?.kill();
    rmSync(folder, { recursive: true, force: true });
  });

  test('one approval covers the principal\'s held commands on that resource, each use audited; not another principal\'s', async () => {
    const agent = await pdp.token({ sub: 'agent:migrator', roles: ['writer'] });
    const alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const { id, decision } = await requestApproval(pdp, deleteOrder(agent, 91));
    assert.equal((decision.obligations as any).approval_requirement.window_seconds, 3600);
    await vote(pdp.url, alice, id, 'approve', 'maintenance window MW-7');
    const first = await pdp.decide({ ...deleteOrder(agent, 91), approval_id: id });
    const second = await pdp.decide({ ...deleteOrder(agent, 92), approval_id: id });
    assert.equal(first.body.effect, 'allow');
    assert.equal(second.body.effect, 'allow', 'a different held command in the window');
    assert.ok((second.body.approval as any).window_ends_at);
    const other = await pdp.token({ sub: 'agent:other', roles: ['writer'] });
    const outsider = await pdp.decide({ ...deleteOrder(other, 93), approval_id: id });
    assert.deepEqual(reasonCodes(outsider.body), ['approval-binding-mismatch']);
    const events = (await pdp.auditEvents('approvals')).map((record: any) => auditBodyOf(record) as any).filter((body: any) => body.approval.id === id);
    assert.deepEqual(events.map((body: any) => body.event), ['approval.requested', 'approval.approved', 'approval.executed', 'approval.executed']);
  });
});
