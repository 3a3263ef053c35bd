import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DecisionReplayer, decisionRecordOf, parsePolicyBundle, policyInputOfRecord, type PolicyBundle, auditBodyOf } from '@portcullis/pdp';
import { deleteOrder, readOrders, requestApproval, vote } from '../approvals/approval-fixtures.ts';
import { auditCli } from '../support/audit-cli.ts';
import { ensureStarterBundle, startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

// The body as readers see it (whole), and as stored under unmapped.portcullis (what an alteration edits).
const bodyOf = (record: Record<string, unknown>) => auditBodyOf(record) as Record<string, any>;
const storedOf = (record: Record<string, unknown>) => (record as { unmapped: { portcullis: Record<string, any> } }).unmapped.portcullis;

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
    // The decisions stream also holds the bundle's activation record: only decisions are replayed.
    records = (await pdp.auditEvents('decisions')).filter((record) => decisionRecordOf(record));
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
      assert.match(refused.stdout, /unattested: .* it was altered/);
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

  it('the PDP\'s GET /v1/audit/report and portcullis audit report carry the same re-verified line, one implementation', async () => {
    await pdp.pdp.flushAudit();
    const auditor = await pdp.consoleToken({ sub: 'carol', roles: ['auditor'], kind: 'human' });
    const served = await fetch(`${pdp.url}/v1/audit/report?format=json`, { headers: { authorization: `Bearer ${auditor}` } });
    assert.equal(served.status, 200);
    const printed = await auditCli(pdp.stateDir, 'report', '--format', 'json');
    assert.equal(printed.code, 0, printed.stderr);
    const linesOf = (report: { controls: { id: string; lines: { text: string; ok: boolean }[] }[] }) => Object.fromEntries(report.controls.map((control) => [control.id, control.lines]));
    const overHttp = linesOf((await served.json()) as never);
    const line = { text: 'decisions re-verified: 6 of 6', ok: true };
    assert.deepEqual(overHttp['AC-3'], [line]);
    assert.deepEqual(overHttp['AU-10'], [line]);
    assert.deepEqual(overHttp, linesOf(JSON.parse(printed.stdout)));
    const markdown = await fetch(`${pdp.url}/v1/audit/report?format=md`, { headers: { authorization: `Bearer ${auditor}` } });
    assert.match(await markdown.text(), /decisions re-verified: 6 of 6/);
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
    storedOf(record).effect = 'allow';
    const result = await replayer.replay(record, bundle);
    assert.deepEqual(result.differences.map((difference) => difference.member), ['effect']);
    assert.equal(result.replayed.effect, 'deny');
  });

  it('a record that lacks what its input needs cannot be re-verified', async () => {
    const record = structuredClone(records.find((candidate) => decisionRecordOf(candidate))!);
    delete storedOf(record).pep.roles;
    await assert.rejects(replayer.replay(record, bundle), /no pep\.roles/);
  });
});

describe('a recorded decision whose input the record withholds as credentials', () => {
  let pdp: TestPdp;
  before(async () => {
    pdp = await startTestPdp();
  });
  after(async () => {
    await pdp.close();
  });

  it('is named with every withheld path, a SQL text\'s included, and not counted as re-verified; a SQL password enrichment redacted is counted', async () => {
    const reader = await pdp.token({ sub: 'agent-reader', roles: ['reader'] });
    // Enrichment redacts a SQL password before policy reads it: the record holds what policy saw.
    assert.equal((await pdp.decide({ ...readOrders(reader), action: { type: 'sql', sql: "ALTER ROLE app PASSWORD 'hunter2-secret'" } })).status, 200);
    // A URL's password inside a literal is SQL to enrichment, a credential to the trail: policy saw it, the record does not.
    const withheld = await pdp.decide({ ...readOrders(reader), action: { type: 'sql', sql: "SELECT id FROM orders WHERE note = 'postgres://app:s3cret-pw@db.internal/orders'" } });
    assert.equal(withheld.body.effect, 'allow');
    await pdp.pdp.flushAudit();
    const records = await pdp.auditEvents('decisions');
    const recordOf = (id: unknown) => bodyOf(records.find((record) => bodyOf(record).decision_id === id)!);
    assert.ok(!JSON.stringify(records).includes('s3cret-pw') && !JSON.stringify(records).includes('hunter2-secret'));
    assert.ok((recordOf(withheld.body.decision_id).redacted as string[]).includes('action.sql'));

    const replayed = await auditCli(pdp.stateDir, 'replay', '--json');
    assert.equal(replayed.code, 0, 'nothing differs: the note is not a failure');
    const report = JSON.parse(replayed.stdout) as { decisions: number; reverified: number; withheld_input: { decision_id: string; withheld: string[] }[]; findings: unknown[] };
    assert.deepEqual(report.findings, []);
    assert.equal(report.decisions, 2);
    assert.equal(report.reverified, 1, 'the decision policy saw a credential for is not counted');
    assert.deepEqual(report.withheld_input.map((note) => note.decision_id), [withheld.body.decision_id]);
    assert.ok(report.withheld_input[0]!.withheld.includes('action.sql'));

    const text = await auditCli(pdp.stateDir, 'replay');
    assert.match(text.stdout, /decisions re-verified: 1 of 2/);
    assert.match(text.stdout, /gave the recorded outcome without .*action\.sql.*not counted as re-verified/);
    const evidence = JSON.parse((await auditCli(pdp.stateDir, 'report', '--format', 'json')).stdout) as { controls: { id: string; lines: { text: string; ok: boolean }[] }[] };
    const [line] = evidence.controls.find((control) => control.id === 'AC-3')!.lines;
    assert.match(line!.text, /^decisions re-verified: 1 of 2; 1 more gave the recorded outcome without input the record withholds as credentials, so they are not counted/);
  });
});
