// Adversarial review of retention (AU-11) and checkpoint-anchored verification (issue 15): an
// insider who can delete files of the trail removes the head of a decisions chain. Verification
// may start from a checkpoint only where retention was entitled to delete what is missing:
// never on a stream kept for ever, never for records younger than the stream's retention, and
// never with the checkpoints' own head gone from a digests stream kept for ever, and never by a
// retention statement shortened after the fact (the PDP signs its retention in its checkpoints).
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPdpConfig, runAuditCommand } from '@portcullis/pdp';
import { eventually } from '../support/eventually.ts';
import { startTestPdp } from '../support/pdp-harness.ts';

/** `portcullis audit verify --json --dir`: the folder states its retention (retention.json, written by the sink). */
async function verify(stateDir: string, dir: string): Promise<{ code: number; result: { ok: boolean; problems: Array<{ kind: string; message: string }>; started_from: unknown[]; notes: string[] } }> {
  let stdout = '';
  const code = await runAuditCommand(['verify', '--json', '--dir', dir], loadPdpConfig({ PORTCULLIS_STATE_DIR: stateDir }), {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => true },
  });
  return { code, result: JSON.parse(stdout) };
}

const rotated = (dir: string, stream: string): string[] => readdirSync(dir).filter((name) => new RegExp(`^${stream}\\.\\d{15}\\.jsonl$`).test(name)).sort();
const nonEmpty = (dir: string, name: string): boolean => existsSync(join(dir, name)) && readFileSync(join(dir, name), 'utf8').trim() !== '';

describe('adversary: the head of a decisions chain deleted from a JSONL trail is not excused as aged out', () => {
  let stateDir: string;
  let auditDir: string;
  let work: string;

  before(async () => {
    // Rotation at 1 KiB: a decision or two per file. Decisions kept an hour: the PDP deletes none of them here.
    const pdp = await startTestPdp({ PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1', PORTCULLIS_AUDIT_ROTATE_BYTES: '1024', PORTCULLIS_AUDIT_RETENTION_DECISIONS: '1h' });
    stateDir = pdp.stateDir;
    auditDir = join(stateDir, 'audit');
    work = mkdtempSync(join(tmpdir(), 'portcullis-adversary-retention-'));
    const token = await pdp.token({ sub: 'agent-rotation', roles: ['reader'] });
    for (let index = 0; rotated(auditDir, 'decisions').length < 3; index++) {
      const { status } = await pdp.decide({ subject_token: token, resource: { type: 'postgres', name: 'orders-db', environment: 'staging' }, action: { type: 'sql', sql: `SELECT ${index}` } });
      assert.equal(status, 200);
      await pdp.pdp.flushAudit();
    }
    // A checkpoint after the start is what a careful insider would have to remove as well (below).
    const digestLines = (): string[] => [...rotated(auditDir, 'digests'), 'digests.jsonl'].filter((name) => nonEmpty(auditDir, name)).flatMap((name) => readFileSync(join(auditDir, name), 'utf8').split('\n'));
    await eventually('a checkpoint on the digests stream', () => digestLines().some((line) => line.trim() !== '' && JSON.parse(line).event === 'checkpoint'), { timeoutMs: 30_000, intervalMs: 100 });
    await pdp.close({ keepState: true });
  });
  after(() => {
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  /** A copy of the trail without its first decisions file (the head of the chain). */
  function headDeleted(name: string, alsoDigestsHead = false, decisionsRetentionMs?: number | null): string {
    const dir = join(work, name);
    cpSync(auditDir, dir, { recursive: true });
    if (decisionsRetentionMs !== undefined) {
      const manifest = JSON.parse(readFileSync(join(dir, 'retention.json'), 'utf8')) as { retention_ms: Record<string, number | null> };
      manifest.retention_ms.decisions = decisionsRetentionMs;
      writeFileSync(join(dir, 'retention.json'), JSON.stringify(manifest));
    }
    const files = [...rotated(dir, 'decisions'), 'decisions.jsonl'].filter((file) => nonEmpty(dir, file));
    assert.ok(files.length >= 3, `decisions files: ${files.join(', ')}`);
    rmSync(join(dir, files[0]!));
    if (alsoDigestsHead) {
      // The start record and everything before the first checkpoint after it, as a careful insider would.
      let found = false;
      for (const file of [...rotated(dir, 'digests'), 'digests.jsonl'].filter((name) => nonEmpty(dir, name))) {
        const lines = readFileSync(join(dir, file), 'utf8').split('\n').filter((line) => line.trim() !== '');
        const kept = lines.filter((line) => (found ||= JSON.parse(line).event === 'checkpoint'));
        writeFileSync(join(dir, file), kept.length > 0 ? `${kept.join('\n')}\n` : '');
      }
      assert.ok(found, 'a checkpoint after the start is held');
    }
    return dir;
  }

  it('the trail as written verifies', async () => {
    const { code, result } = await verify(stateDir, auditDir);
    assert.equal(code, 0, JSON.stringify(result.problems, null, 1));
  });

  it('a stream kept for ever: the missing head is a gap, not a start from a checkpoint', async () => {
    const { code, result } = await verify(stateDir, headDeleted('forever', false, null));
    assert.equal(code, 1, JSON.stringify(result, null, 1));
    assert.deepEqual(result.started_from, []);
    assert.ok(result.problems.some((problem) => problem.kind === 'gap'), JSON.stringify(result.problems, null, 1));
    assert.ok(result.notes.some((note) => /kept for ever: they cannot have aged out/.test(note)), result.notes.join('\n'));
  });

  it('records younger than the stream\'s retention (1 h): the missing head was deleted, not aged out', async () => {
    const { code, result } = await verify(stateDir, headDeleted('young'));
    assert.equal(code, 1, JSON.stringify(result, null, 1));
    assert.deepEqual(result.started_from, []);
    assert.ok(result.notes.some((note) => /within the stream's retention/.test(note)), result.notes.join('\n'));
  });

  it('a retention statement shortened after the fact (retention.json to 1 s): the PDP signed 1 h, so the deletion is named, not excused', async () => {
    const { code, result } = await verify(stateDir, headDeleted('shortened', false, 1000));
    assert.equal(code, 1, JSON.stringify(result, null, 1));
    assert.deepEqual(result.started_from, []);
    const shortened = result.problems.find((problem) => problem.kind === 'retention-shortened');
    assert.ok(shortened, JSON.stringify(result.problems, null, 1));
    assert.match(shortened.message, /keeps the decisions stream 1000 ms, shorter than the 3600000 ms the PDP signed/);
    assert.ok(result.problems.some((problem) => problem.kind === 'gap'), JSON.stringify(result.problems, null, 1));
  });

  it('a retention statement removed (no retention.json): the signed retention stands, and the young head is still named', async () => {
    const dir = headDeleted('unstated');
    rmSync(join(dir, 'retention.json'));
    const { code, result } = await verify(stateDir, dir);
    assert.equal(code, 1, JSON.stringify(result, null, 1));
    assert.deepEqual(result.started_from, []);
    assert.ok(result.notes.some((note) => /within the stream's retention of 3600000 ms/.test(note)), result.notes.join('\n'));
  });

  it('with the start and first checkpoints removed as well, a digests stream kept for ever still names it', async () => {
    const { code, result } = await verify(stateDir, headDeleted('careful', true));
    assert.equal(code, 1, JSON.stringify(result, null, 1));
    assert.ok(result.problems.some((problem) => /start|checkpoint seq 0/.test(problem.message)), JSON.stringify(result.problems, null, 1));
  });
});
