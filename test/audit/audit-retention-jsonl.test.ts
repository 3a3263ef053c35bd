import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPdpConfig, runAuditCommand, type EvidenceReport } from '@portcullis/pdp';
import { startTestPdp } from '../support/pdp-harness.ts';
import { eventually } from '../support/eventually.ts';

const RETENTION = { PORTCULLIS_AUDIT_RETENTION_DECISIONS: '3s', PORTCULLIS_AUDIT_ROTATE_BYTES: '1024' };

/** `portcullis audit …` with the PDP's own configuration (its retention included). */
async function audit(stateDir: string, ...args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await runAuditCommand(args, loadPdpConfig({ PORTCULLIS_STATE_DIR: stateDir, ...RETENTION }), {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => true },
  });
  return { code, stdout };
}

const rotated = (dir: string, stream: string): string[] => readdirSync(dir).filter((name) => new RegExp(`^${stream}\\.\\d{15}\\.jsonl$`).test(name)).sort();
const firstSeqHeld = (dir: string): number => {
  const first = [...rotated(dir, 'decisions'), 'decisions.jsonl'].find((name) => existsSync(join(dir, name)) && readFileSync(join(dir, name), 'utf8').trim() !== '');
  const record = JSON.parse(readFileSync(join(dir, first!), 'utf8').split('\n')[0]!) as { unmapped: { portcullis: { chain: { seq: number } } } };
  return record.unmapped.portcullis.chain.seq;
};

const heldDecisionFiles = (dir: string): string[] =>
  [...rotated(dir, 'decisions'), 'decisions.jsonl'].filter((name) => existsSync(join(dir, name)) && readFileSync(join(dir, name), 'utf8').trim() !== '');

describe('retention (AU-11) of the embedded JSONL trail: files rotate, expired ones are deleted, the rest verifies from its checkpoint', () => {
  let stateDir: string;
  let auditDir: string;

  before(async () => {
    const pdp = await startTestPdp({ PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1', ...RETENTION });
    stateDir = pdp.stateDir;
    auditDir = join(stateDir, 'audit');
    const token = await pdp.token({ sub: 'agent-rotation', roles: ['reader'] });
    let index = 0;
    // Each batch rotates a full file first; a rotation also deletes files older than 3 s.
    await eventually('the oldest decision files expire', async () => {
      const { status } = await pdp.decide({ subject_token: token, resource: { type: 'postgres', name: 'orders-db', environment: 'staging' }, action: { type: 'sql', sql: `SELECT ${index++}` } });
      assert.equal(status, 200);
      await pdp.pdp.flushAudit();
      // The bundle's activation (seq 0, written at start) may expire with the first rotation: keep on until three files are held.
      return firstSeqHeld(auditDir) > 0 && heldDecisionFiles(auditDir).length >= 3;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    await pdp.close({ keepState: true });
  });
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  it('rotated files are kept by retention: decisions expired, digests (kept for ever) all there', () => {
    assert.ok(rotated(auditDir, 'decisions').length >= 1);
    const digests = rotated(auditDir, 'digests');
    const first = JSON.parse(readFileSync(join(auditDir, digests[0] ?? 'digests.jsonl'), 'utf8').split('\n')[0]!) as { event?: string; seq?: number };
    assert.equal(first.event, 'start', 'the first digests file, with the signed start, is still held');
  });

  it('verify passes from the oldest held checkpoint, and the report says so with the retention', async () => {
    const verify = await audit(stateDir, 'verify', '--json');
    const result = JSON.parse(verify.stdout) as { ok: boolean; problems: unknown[]; started_from: Array<{ stream: string; first_seq: number }> };
    assert.equal(verify.code, 0, JSON.stringify(result.problems, null, 1));
    assert.deepEqual(result.started_from.map((start) => [start.stream, start.first_seq]), [['decisions', firstSeqHeld(auditDir)]]);
    const report = JSON.parse((await audit(stateDir, 'report', '--format', 'json')).stdout) as EvidenceReport;
    assert.equal(report.retention.find((entry) => entry.stream === 'decisions')?.retention, '3s');
    assert.equal(report.retention.find((entry) => entry.stream === 'digests')?.retention, 'forever');
    assert.match(report.controls.find((control) => control.id === 'AU-11')!.verification.summary, /started from a signed checkpoint/);
    const html = (await audit(stateDir, 'report', '--format', 'html')).stdout;
    assert.match(html, /Verification started from a checkpoint/);
  });

  it('a copy of the folder read with --dir states the retention its sink applied (retention.json), for every stream', async () => {
    const copy = join(stateDir, 'archived');
    cpSync(auditDir, copy, { recursive: true });
    // Another configuration (none of the retention settings): what the report states comes from the folder.
    let stdout = '';
    const code = await runAuditCommand(['report', '--format', 'json', '--dir', copy], loadPdpConfig({ PORTCULLIS_STATE_DIR: stateDir }), {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
    });
    assert.equal(code, 0);
    const retention = (JSON.parse(stdout) as EvidenceReport).retention;
    assert.deepEqual(retention.map((entry) => [entry.stream, entry.retention]), [['decisions', '3s'], ['sessions', 'forever'], ['approvals', 'forever'], ['shadow', 'forever'], ['digests', 'forever']]);
    assert.ok(retention.every((entry) => /retention\.json beside the files/.test(entry.source ?? '')), JSON.stringify(retention));
    const decisions = retention.find((entry) => entry.stream === 'decisions')!;
    const firstFile = [...rotated(copy, 'decisions'), 'decisions.jsonl'].find((name) => existsSync(join(copy, name)) && readFileSync(join(copy, name), 'utf8').trim() !== '')!;
    const firstHeld = JSON.parse(readFileSync(join(copy, firstFile), 'utf8').split('\n')[0]!) as { time: number };
    assert.equal(decisions.oldest_record, new Date(firstHeld.time).toISOString());
    assert.deepEqual(JSON.parse(readFileSync(join(copy, 'retention.json'), 'utf8')).rotation, { max_bytes: 1024, max_age_ms: 86_400_000 });

    // Without the manifest, a bare folder says nothing of its retention rather than guessing.
    rmSync(join(copy, 'retention.json'));
    stdout = '';
    await runAuditCommand(['report', '--format', 'json', '--dir', copy], loadPdpConfig({ PORTCULLIS_STATE_DIR: stateDir }), { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true } });
    assert.ok((JSON.parse(stdout) as EvidenceReport).retention.every((entry) => entry.retention === 'not stated'));
  });

  it('a record removed or altered after the checkpoint is still named', async () => {
    const copy = (name: string): string => {
      const dir = join(stateDir, name);
      cpSync(auditDir, dir, { recursive: true });
      return dir;
    };
    // Files hold a record or two each (rotation at 1 KiB): remove the second file held, then alter one record of the last.
    const removed = copy('removed');
    const held = heldDecisionFiles(removed);
    assert.ok(held.length >= 3, `three decisions files held (${held.join(', ')})`);
    rmSync(join(removed, held[1]!));
    const gap = await audit(stateDir, 'verify', '--dir', removed);
    assert.equal(gap.code, 1);
    assert.match(gap.stdout, /gap/);

    const altered = copy('altered');
    const target = join(altered, held.at(-1)!);
    writeFileSync(target, readFileSync(target, 'utf8').replace('SELECT', 'SELECT  '));
    const mismatch = await audit(stateDir, 'verify', '--dir', altered);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stdout, /hash-mismatch/);
  });
});
