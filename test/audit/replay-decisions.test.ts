import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DecisionReplayer, decisionRecordOf, parsePolicyBundle, policyInputOfRecord, type PolicyBundle } from '@portcullis/pdp';
import { deleteOrder, readOrders, requestApproval, vote } from '../approvals/approval-fixtures.ts';
import { auditCli } from '../support/audit-cli.ts';
import { ensureStarterBundle, startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

const bodyOf = (record: Record<string, unknown>) => (record as { unmapped: { portcullis: Record<string, any> } }).unmapped.portcullis;

describe('recorded decisions evaluated again with the bundle that decided them', () => {
  let pdp: TestPdp;
  let bundle: PolicyBundle;
  let replayer: DecisionReplayer;
  let records: Record<string, unknown>[];

  before(async () => {
    bundle = parsePolicyBundle(readFileSync(ensureStarterBundle()));
    replayer = new DecisionReplayer();
    pdp = await startTestPdp();
    const reader = await pdp.token({ sub: 'agent-reader', roles: ['reader'] });
    const writer = await pdp.token({ sub: 'agent-writer', roles: ['reader', 'writer'] });
    const approver = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    assert.equal((await pdp.decide(readOrders(reader))).body.effect, 'allow');
    assert.equal((await pdp.decide({ ...readOrders(reader), action: { type: 'sql', sql: 'SELECT * FROM users' } })).body.effect, 'allow');
    assert.equal((await pdp.decide(deleteOrder(reader))).body.effect, 'deny');
    assert.equal((await pdp.decide({ ...readOrders('not-a-token') })).body.effect, 'deny');
    const { id } = await requestApproval(pdp, deleteOrder(writer, 9));
    assert.equal((await vote(pdp.url, approver, id, 'approve')).status, 200);
    assert.equal((await pdp.decide({ ...deleteOrder(writer, 9), approval_id: id })).body.effect, 'allow');
    records = await pdp.auditEvents('decisions');
  });
  after(async () => {
    await replayer.close();
    await pdp.close();
  });

  it('portcullis audit replay re-verifies the run from the state folder; an altered archived bundle is refused; bad input is a usage error', async () => {
    await pdp.pdp.flushAudit();
    const replayed = await auditCli(pdp.stateDir, 'replay');
    assert.equal(replayed.code, 0, replayed.stdout);
    assert.match(replayed.stdout, /decisions re-verified: 6 of 6/);

    const copy = mkdtempSync(join(tmpdir(), 'portcullis-bundles-'));
    try {
      const [name] = readdirSync(join(pdp.stateDir, 'bundles'));
      const bytes = readFileSync(join(pdp.stateDir, 'bundles', name!));
      bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
      writeFileSync(join(copy, name!), bytes);
      const refused = await auditCli(pdp.stateDir, 'replay', '--bundles', copy);
      assert.equal(refused.code, 1);
      assert.match(refused.stdout, /decisions re-verified: 0 of 6/);
      assert.match(refused.stdout, /cannot be replayed: .* it was altered/);
      const empty = await auditCli(pdp.stateDir, 'replay', '--bundles', join(copy, 'none'));
      assert.equal(empty.code, 1);
      assert.match(empty.stdout, /no bundle of revision/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }

    const usage = await auditCli(pdp.stateDir, 'replay', '--from', 'yesterday');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--from must be an ISO date/);
  });

  it('every decision of the run is re-verified: the rebuilt input gives the recorded outcome', async () => {
    const decisions = records.filter((record) => decisionRecordOf(record));
    assert.equal(decisions.length, 6);
    for (const record of decisions) {
      const result = await replayer.replay(record, bundle);
      assert.deepEqual(result.differences, [], `decision ${bodyOf(record).decision_id} (${bodyOf(record).effect})`);
    }
  });

  it('the rebuilt input is what policy saw: the PEP with its roles, the unverified principal in its full form', () => {
    const unverified = records.find((record) => bodyOf(record).principal.authenticated === false)!;
    const input = policyInputOfRecord(unverified);
    assert.deepEqual(input.principal, { authenticated: false, error: bodyOf(unverified).principal.error, sub: null, iss: null, kind: 'agent', roles: [] });
    assert.deepEqual(input.pep, { sub: 'pep-test', roles: ['pep'] });
    assert.equal((input.resource as { name: string }).name, 'orders-db');
  });

  it('an answer that is not policy\'s own keeps policy\'s outcome beside it, and only what differs', () => {
    const granted = records.find((record) => bodyOf(record).effect === 'allow' && bodyOf(record).approval)!;
    const policy = bodyOf(granted).policy_outcome;
    assert.equal(policy.effect, 'approval_required');
    assert.equal(policy.approval_requirement.quorum, 1);
    assert.equal(policy.obligations, undefined, 'the obligations are the answer\'s: not stored twice');
    const plain = records.find((record) => bodyOf(record).effect === 'allow' && !bodyOf(record).approval)!;
    assert.equal(bodyOf(plain).policy_outcome, undefined);
  });

  it('a record whose effect was altered is named with the member that differs', async () => {
    const record = structuredClone(records.find((candidate) => bodyOf(candidate).effect === 'deny' && bodyOf(candidate).principal.authenticated)!);
    bodyOf(record).effect = 'allow';
    const result = await replayer.replay(record, bundle);
    assert.deepEqual(result.differences.map((difference) => difference.member), ['effect']);
    assert.equal(result.replayed.effect, 'deny');
  });

  it('a record that lacks what its input needs cannot be re-verified', async () => {
    const record = structuredClone(records.find((candidate) => decisionRecordOf(candidate))!);
    delete bodyOf(record).pep.roles;
    await assert.rejects(replayer.replay(record, bundle), /no pep\.roles/);
  });
});
