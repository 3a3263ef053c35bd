import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditCli } from '../support/audit-cli.ts';
import { startTestPdp } from '../support/pdp-harness.ts';

describe('the embedded audit trail: chained, digested, verifiable and reportable without Kafka', () => {
  let stateDir: string;
  let auditDir: string;
  const decisionIds: string[] = [];

  before(async () => {
    const pdp = await startTestPdp({ PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1' });
    stateDir = pdp.stateDir;
    auditDir = join(stateDir, 'audit');
    const reader = await pdp.token({ sub: 'agent-report', roles: ['reader'] });
    const writer = await pdp.token({ sub: 'alice', roles: ['reader', 'writer'], kind: 'human' });
    const actions = [
      { token: reader, sql: 'SELECT email FROM users WHERE id = 1' },
      { token: reader, sql: 'DELETE FROM orders' },
      { token: writer, sql: "UPDATE orders SET status = 'x' WHERE id = 2" },
      { token: 'not-a-token', sql: 'SELECT 1' },
      { token: reader, sql: "SELECT '<script>alert(1)</script>'" },
    ];
    for (let round = 0; round < 4; round += 1) {
      for (const { token, sql } of actions) {
        const { body } = await pdp.decide({
          subject_token: token,
          resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
          action: { type: 'sql', sql },
          session: { id: `session-${round}`, client_addr: '127.0.0.1' },
        });
        decisionIds.push(body.decision_id as string);
      }
    }
    await pdp.close({ keepState: true });
  });
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  const copyOfAudit = (name: string): string => {
    const copy = join(stateDir, name);
    cpSync(auditDir, copy, { recursive: true });
    return copy;
  };

  it('verify passes on the untouched trail, with every record attested by a signed digest', async () => {
    const result = await auditCli(stateDir, 'verify', '--json');
    assert.equal(result.code, 0, result.stdout);
    const report = JSON.parse(result.stdout) as { ok: boolean; counts: { records: number; digests_verified: number; records_attested: number } };
    assert.equal(report.ok, true);
    // Every decision, plus the one approval the production UPDATE opened (approvals stream): asked
    // again each round while it is pending, it is the same approval, not another; plus the
    // bundle's activation that opens the decisions chain.
    const expected = decisionIds.length + 1 + 1;
    assert.equal(report.counts.records, expected);
    assert.ok(report.counts.digests_verified >= 1);
    assert.equal(report.counts.records_attested, expected);
    const text = await auditCli(stateDir, 'verify');
    assert.match(text.stdout, /PASS/);
  });

  it('verify fails on one altered byte and names the record', async () => {
    const dir = copyOfAudit('altered');
    const file = join(dir, 'decisions.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[6] = lines[6]!.replace('"orders-db"', '"orders-dc"');
    writeFileSync(file, lines.join('\n'));
    const result = await auditCli(stateDir, 'verify', '--dir', dir);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /FAIL/);
    assert.match(result.stdout, /hash-mismatch.*decisions\.jsonl line 7/);
  });

  it('verify fails on a removed record and names the gap', async () => {
    const dir = copyOfAudit('removed');
    const file = join(dir, 'decisions.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    const removed = JSON.parse(lines[9]!) as { unmapped: { portcullis: { chain: { seq: number } } } };
    lines.splice(9, 1);
    writeFileSync(file, lines.join('\n'));
    const result = await auditCli(stateDir, 'verify', '--dir', dir);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /gap/);
    assert.ok(result.stdout.includes(String(removed.unmapped.portcullis.chain.seq)), result.stdout);
  });

  it('tail filters by principal and effect', async () => {
    const denies = await auditCli(stateDir, 'tail', '--principal', 'agent-report', '--effect', 'deny');
    assert.equal(denies.code, 0);
    const lines = denies.stdout.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.ok(lines.every((line) => /deny/.test(line) && /agent-report/.test(line)), denies.stdout);
  });

  it('report covers every control in md, json and html, and html escapes what it shows', async () => {
    for (const format of ['md', 'json', 'html']) {
      const result = await auditCli(stateDir, 'report', '--format', format, '--from', '2000-01-01T00:00:00Z', '--to', '2999-01-01T00:00:00Z');
      assert.equal(result.code, 0);
      for (const control of ['AC-3', 'AC-5', 'AC-6', 'AU-2', 'AU-3', 'AU-5', 'AU-9', 'AU-10', 'AU-12', 'IA-2', 'IA-9']) {
        assert.ok(result.stdout.includes(control), `${format} report lacks ${control}`);
      }
      if (format === 'html') assert.equal(result.stdout.includes('<script>alert(1)</script>'), false);
    }
  });

  it('the PDP serves the same report at /v1/audit/report to auditors only', async () => {
    const pdp = await startTestPdp({ PORTCULLIS_STATE_DIR: stateDir });
    try {
      const auditor = await pdp.consoleToken({ sub: 'carol', roles: ['auditor'], kind: 'human' });
      const agent = await pdp.consoleToken({ sub: 'agent-x', roles: ['reader'] });
      const html = await fetch(`${pdp.url}/v1/audit/report?format=html&from=2000-01-01T00:00:00Z`, { headers: { authorization: `Bearer ${auditor}` } });
      assert.equal(html.status, 200);
      assert.match(html.headers.get('content-type') ?? '', /text\/html/);
      const page = await html.text();
      for (const control of ['AC-3', 'AU-9', 'IA-9']) assert.ok(page.includes(control));
      const refused = await fetch(`${pdp.url}/v1/audit/report`, { headers: { authorization: `Bearer ${agent}` } });
      assert.equal(refused.status, 403);
      // An auditor's API-audience token is no console session.
      const apiAuditor = await pdp.token({ sub: 'carol', roles: ['auditor'], kind: 'human' });
      assert.equal((await fetch(`${pdp.url}/v1/audit/report`, { headers: { authorization: `Bearer ${apiAuditor}` } })).status, 401);
      const bad = await fetch(`${pdp.url}/v1/audit/report?format=pdf`, { headers: { authorization: `Bearer ${auditor}` } });
      assert.equal(bad.status, 400);
    } finally {
      await pdp.close({ keepState: true });
    }
  });

  it('refuses bad arguments with a usage line and exit 2', async () => {
    const result = await auditCli(stateDir, 'report', '--format', 'pdf');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /usage/);
  });
});
