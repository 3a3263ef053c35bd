import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent } from '../src/audit/audit-event.ts';
import { verifyAudit, type VerificationReport } from '../src/audit/verification/audit-verifier.ts';
import { auditSigningDirectory, DigestSigner } from '../src/audit/trail/digest-signer.ts';
import { buildEvidenceReport, renderReport, type EvidenceReport } from '../src/audit/verification/evidence-report.ts';
import { HashChain, type LinkedRecord } from '../src/audit/trail/hash-chain.ts';
import { toOcsfRecord } from '../src/audit/ocsf/ocsf-record.ts';
import { ProducerCheckpoints } from '../src/audit/trail/producer-checkpoints.ts';
import {
  EXPIRED, HUMAN, K8S_DELETE, PRODUCT, approvalEvent, bundleActivationEvent, decisionEvent, items, sessionStatementEvent, sessionStatementsEvent, sqlAction, tempDir,
} from './audit-fixtures.ts';

const CONTROLS = ['AC-3', 'AC-5', 'AC-6', 'AU-2', 'AU-3', 'AU-5', 'AU-9', 'AU-10', 'AU-11', 'AU-12', 'AU-14', 'IA-2', 'IA-9'];
const XSS = `SELECT '<script>alert("x")</script>' FROM orders`;

interface Fixture {
  records: LinkedRecord[];
  digests: unknown[];
  verification: VerificationReport;
}

async function fixture(directory: string): Promise<Fixture> {
  const chain = new HashChain('pdp-evidence');
  const signer = new DigestSigner({ directory });
  const lifecycle = new ProducerCheckpoints({ producerId: 'pdp-evidence', digestIntervalMs: 10_000, durability: 'sync', sign: (payload) => signer.signPayload(payload) });
  const start = await lifecycle.next('start', {}, []);
  const events: AuditEvent[] = [
    // As the PDP does: the bundle's activation precedes the decisions naming its revision.
    bundleActivationEvent(),
    decisionEvent({ action: sqlAction(XSS, 'select') }),
    decisionEvent({ action: sqlAction('SELECT email FROM users', 'select', 'users'), mask: [{ table: 'users', column: 'email', strategy: 'redact' }] }),
    decisionEvent({ effect: 'deny', action: sqlAction('DELETE FROM orders', 'delete') }),
    decisionEvent({ effect: 'deny', verification: EXPIRED, reasons: [{ code: 'token-expired', message: 'expired' }] }),
    decisionEvent({ effect: 'approval_required', verification: HUMAN, action: K8S_DELETE }),
    sessionStatementEvent('SELECT email FROM users', 7),
    approvalEvent('approval.requested'),
    approvalEvent('approval.approved', ['bob', 'carol']),
    approvalEvent('approval.approved', ['agent-7', 'bob']),
    approvalEvent('approval.denied', ['bob']),
  ];
  const records = events.map((event) => {
    const record = chain.link(event.stream, toOcsfRecord(event, PRODUCT));
    signer.append(record);
    return record;
  });
  const signed = await signer.digestAll();
  const stop = await lifecycle.next('stop', Object.fromEntries(signed.map((digest) => [digest.stream, { last_seq: digest.last_seq, last_hash: digest.last_hash }])), []);
  const digests = [start, ...signed, stop];
  const verification = await verifyAudit({
    records: items(records.map((record, index) => ({ record: JSON.parse(JSON.stringify(record)) as unknown, where: `line ${index + 1}` }))),
    digests: items(digests.map((digest) => ({ record: digest, where: 'digests' }))),
    jwks: await signer.publicJwks(),
    trust: { source: 'jwks-file', path: '/pinned/jwks.json', thumbprints: ['pinned-thumbprint'] },
  });
  return { records, digests, verification };
}

describe('evidence report', () => {
  let root: { path: string; remove: () => Promise<void> };
  let data: Fixture;
  let report: EvidenceReport;
  const now = new Date('2026-11-26T00:00:00.000Z');

  before(async () => {
    root = await tempDir('portcullis-evidence-');
    data = await fixture(auditSigningDirectory(join(root.path, 'state')));
    // Digest records in the input are skipped, not counted as events.
    report = await buildEvidenceReport({ records: items([...data.records, ...data.digests]), verification: data.verification, now });
  });
  after(() => root.remove());

  test('covers every control with what the evidence is, counts, examples and the verification result', () => {
    assert.equal(data.verification.ok, true);
    assert.deepEqual(report.controls.map((control) => control.id), CONTROLS);
    for (const control of report.controls) {
      assert.ok(control.title.length > 0);
      assert.match(control.evidence, /^[A-Z].+\.$/, `${control.id} evidence is one sentence`);
      assert.ok(Object.keys(control.counts).length > 0, `${control.id} has counts`);
      assert.ok(control.examples.length <= 3);
      assert.equal(control.verification.ok, true);
    }
    assert.equal(report.generated_at, now.toISOString());
    assert.equal(report.verification.ok, true);
    assert.equal(report.verification.counts.digests_verified, 3);
  });

  test('counts decisions by effect and principal kind, distinct principals and resources, approvals, denial reasons, masks and digests', () => {
    const counts = (id: string): Record<string, unknown> => report.controls.find((control) => control.id === id)!.counts;
    assert.deepEqual(counts('AC-3').decisions_by_effect, { allow: 2, approval_required: 1, deny: 2 });
    assert.deepEqual(counts('AC-3').decisions_by_action_type, { kubernetes: 1, sql: 4 });
    assert.equal(counts('AC-3').distinct_principals, 2);
    assert.equal(counts('AC-3').distinct_resources, 1);
    assert.deepEqual(counts('AC-5').approvals_by_outcome, { approved: 2, denied: 1, requested: 1 });
    assert.equal(counts('AC-5').self_approvals, 1);
    assert.equal(counts('AC-5').distinct_approvers, 3);
    assert.deepEqual(counts('AC-6').denials_by_reason, { 'sql-delete-without-where': 1, 'token-expired': 1 });
    assert.equal(counts('AC-6').allowed_with_masks, 1);
    assert.equal(counts('AC-6').masked_cells, 7);
    assert.deepEqual(counts('AU-2').records_by_stream, { approvals: 4, decisions: 6, sessions: 1 });
    assert.equal(counts('AU-3').records_with_all_content, 10);
    assert.deepEqual(counts('AU-5').audit_failures_recorded, {});
    assert.equal(counts('AU-9').records_verified, 11);
    assert.equal(counts('AU-10').digests_verified, 3);
    assert.equal(counts('AU-10').records_attested, 11);
    assert.deepEqual(counts('AU-12').records_by_producer, { 'pdp-evidence': 11 });
    assert.deepEqual(counts('IA-2').decisions_by_principal_kind, { agent: 3, human: 1, unauthenticated: 1 });
    assert.deepEqual(counts('IA-2').unauthenticated_by_error, { 'token-expired': 1 });
    assert.deepEqual(counts('IA-9').decisions_by_pep, { 'pep-orders-db': 5 });
  });

  test('counts every statement of a run (session.statements) as a statement, masked cells included', async () => {
    const chain = new HashChain('pdp-runs');
    const records = [
      sessionStatementEvent('SELECT email FROM users', 7),
      sessionStatementsEvent(['SELECT email FROM users WHERE id = 1', 'SELECT 1', 'SELECT email FROM users WHERE id = 2', 'SELECT 2'], [3, 0, 2]),
      sessionStatementsEvent(['SELECT 3', 'SELECT 4']),
    ].map((event) => chain.link(event.stream, toOcsfRecord(event, PRODUCT)));
    const runs = await buildEvidenceReport({ records: items(records), verification: data.verification, now });
    const counts = (id: string): Record<string, unknown> => runs.controls.find((control) => control.id === id)!.counts;
    assert.equal(counts('AU-2').records, 3);
    assert.equal(counts('AU-2').session_statements, 7);
    assert.deepEqual(counts('AU-2').records_by_event, { 'session.statement': 1, 'session.statements': 2 });
    assert.equal(counts('AC-6').masked_cells, 12);
    assert.equal(counts('AC-6').statements_with_masked_cells, 3);
    const run = runs.controls.find((control) => control.id === 'AC-6')!.examples.find((example) => example.event === 'session.statements');
    assert.ok(run, 'a run with masked cells is an example of masking');
    assert.deepEqual([run.statements, run.masked_cells], [4, 5]);
    assert.equal(run.command, 'SELECT email FROM users WHERE id = 1\nSELECT 1\nSELECT email FROM users WHERE id = 2\nSELECT 2');
    assert.equal(report.controls.find((control) => control.id === 'AU-2')!.counts.session_statements, 1, 'a lone statement counts once');
  });

  test('examples are a few trimmed records that show the control at work', () => {
    const ac3 = report.controls.find((control) => control.id === 'AC-3')!;
    assert.deepEqual(ac3.examples.map((example) => example.effect), ['allow', 'deny', 'approval_required']);
    const deny = ac3.examples[1]!;
    assert.deepEqual(deny.reasons, ['sql-delete-without-where']);
    assert.equal(deny.command, 'DELETE FROM orders');
    assert.equal(deny.resource, 'orders-db');
    assert.deepEqual(Object.keys(deny.chain as object), ['producer_id', 'stream', 'seq', 'hash']);
    assert.ok(!JSON.stringify(ac3.examples).includes('statements'), 'examples are trimmed');
    const ac6 = report.controls.find((control) => control.id === 'AC-6')!;
    assert.ok(ac6.examples.some((example) => Array.isArray(example.mask)));
  });

  test('counts only the records of the period asked for', async () => {
    const times = data.records.map((record) => record.time).sort((a, b) => a - b);
    // Decisions carry the clock's time, sessions and approvals fixed ones: cut between two distinct times.
    const distinct = [...new Set(times)];
    const cut = new Date(distinct[Math.floor(distinct.length / 2)]!);
    const expectLater: Record<string, number> = {};
    for (const record of data.records.filter((each) => each.time >= cut.getTime())) {
      const stream = record.unmapped.portcullis.chain.stream;
      expectLater[stream] = (expectLater[stream] ?? 0) + 1;
    }
    const later = await buildEvidenceReport({ records: items(data.records), from: cut, verification: data.verification, now });
    assert.deepEqual(later.controls.find((control) => control.id === 'AU-2')!.counts.records_by_stream, Object.fromEntries(Object.entries(expectLater).sort()));
    assert.equal(later.period.from, cut.toISOString());
    assert.equal(later.period.first_record, cut.toISOString());
    const earlier = await buildEvidenceReport({ records: items(data.records), to: cut, verification: data.verification, now });
    assert.equal(earlier.controls.find((control) => control.id === 'AU-2')!.counts.records, times.filter((time) => time < cut.getTime()).length);
    assert.equal(earlier.period.first_record, new Date(times[0]!).toISOString());
    assert.ok(Object.values(expectLater).reduce((a, b) => a + b, 0) < data.records.length);
  });

  test('a failed verification shows in the report and in AU-9', async () => {
    const failed: VerificationReport = {
      ...data.verification,
      ok: false,
      problems: [{ kind: 'hash-mismatch', message: 'decisions record seq 2 (decision <b>x</b>, line 3) was altered', seq: 2 }],
    };
    const bad = await buildEvidenceReport({ records: items(data.records), verification: failed, now });
    assert.equal(bad.verification.ok, false);
    assert.deepEqual(bad.verification.problems_by_kind, { 'hash-mismatch': 1 });
    const au9 = bad.controls.find((control) => control.id === 'AU-9')!;
    assert.equal(au9.verification.ok, false);
    assert.match(au9.verification.summary, /1 hash-mismatch/);
    assert.equal(bad.controls.find((control) => control.id === 'AU-10')!.verification.ok, true);
    assert.match(renderReport(bad, 'html'), /decision &lt;b&gt;x&lt;\/b&gt;/);
  });

  test('renders as JSON that reads back as the report', () => {
    assert.deepEqual(JSON.parse(renderReport(report, 'json')), JSON.parse(JSON.stringify(report)));
  });

  test('renders Markdown with every control, its counts and fenced examples that record text cannot break', () => {
    const md = renderReport(report, 'md');
    for (const id of CONTROLS) assert.match(md, new RegExp(`^## ${id} `, 'm'));
    assert.match(md, /^## Verification: verified$/m);
    assert.match(md, /\| Decisions by effect \| allow: 2, approval\\_required: 1, deny: 2 \|/);
    assert.match(md, /```json\n\{/);
    assert.ok(!/<script>/.test(md.replace(/```json[\s\S]*?```/g, '')), 'raw HTML outside code');
  });

  test('renders a self-contained HTML page without scripts, escaping a <script> in SQL text', () => {
    const html = renderReport(report, 'html');
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<style>[\s\S]+<\/style>/);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/);
    for (const id of CONTROLS) assert.ok(html.includes(`<section id="${id}"`), `${id} section`);
    assert.ok(!/<script/i.test(html), 'a script element reached the page');
    assert.ok(!/(src|href)=/i.test(html), 'the page loads nothing');
    assert.ok(html.includes('SELECT &#39;&lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;&#39; FROM orders'));
    assert.throws(() => renderReport(report, 'pdf' as 'md'), /unknown format/);
  });
});
