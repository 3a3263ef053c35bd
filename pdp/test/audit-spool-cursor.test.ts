import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AuditSpool, type AuditSpoolOptions } from '../src/audit/trail/kafka/audit-spool.ts';

const record = (index: number) => ({ stream: 'decisions', key: `k${index}`, headers: {}, json: JSON.stringify({ index }) });
const indexes = (records: readonly { value: Buffer }[]): number[] => records.map((entry) => (JSON.parse(entry.value.toString('utf8')) as { index: number }).index);

describe('audit spool cursor', () => {
  let directory: string;
  let options: AuditSpoolOptions;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'portcullis-spool-cursor-'));
    // An interval no run reaches: only the first commit, shipped segments and close write the cursor.
    options = { directory, maxBytes: 1024 * 1024, segmentBytes: 1024 * 1024, syncIntervalMs: 5, durability: 'sync', cursorSyncIntervalMs: 3_600_000 };
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  const shipOne = async (spool: AuditSpool): Promise<void> => {
    const batch = await spool.readBatch(1, 1024 * 1024, 0);
    assert.ok(batch);
    spool.commit(batch.end);
  };

  test('a commit within the interval leaves the cursor file alone; a crash resends what the broker has, never skips a record', async () => {
    const spool = AuditSpool.open(options);
    for (let index = 0; index < 4; index += 1) assert.equal(spool.append(record(index)), true);
    await spool.flush();
    await shipOne(spool);
    const written = readFileSync(join(directory, 'cursor.json'), 'utf8');
    await shipOne(spool);
    await shipOne(spool);
    assert.equal(readFileSync(join(directory, 'cursor.json'), 'utf8'), written, 'no rewrite per produce request');

    // A crash now (no close): the next start ships from the cursor on disk.
    const restarted = AuditSpool.open(options);
    const resent = await restarted.readBatch(100, 1024 * 1024, 0);
    assert.deepEqual(indexes(resent?.records ?? []), [1, 2, 3], 'records 1 and 2 again, then the unshipped one');
    await restarted.close();
    await spool.close();
  });

  test('close writes the last commit: the next start ships only what the broker lacks', async () => {
    const spool = AuditSpool.open(options);
    for (let index = 0; index < 3; index += 1) spool.append(record(index));
    await spool.flush();
    await shipOne(spool);
    await shipOne(spool);
    await spool.close();
    const reopened = AuditSpool.open(options);
    const next = await reopened.readBatch(100, 1024 * 1024, 0);
    assert.deepEqual(indexes(next?.records ?? []), [2]);
    await reopened.close();
  });

  test('a shipped segment is removed only once the cursor file has moved past it', async () => {
    // One record per segment: each flush is its own write, and a write past 64 bytes starts a segment.
    const spool = AuditSpool.open({ ...options, segmentBytes: 64 });
    for (let index = 0; index < 3; index += 1) {
      spool.append(record(index));
      await spool.flush();
    }
    await shipOne(spool);
    await shipOne(spool);
    assert.equal(existsSync(join(directory, 'spool-00000001.log')), false, 'the first segment is shipped and gone');
    assert.equal((JSON.parse(readFileSync(join(directory, 'cursor.json'), 'utf8')) as { segment: number }).segment, 2);
    const crashed = AuditSpool.open(options);
    const rest = await crashed.readBatch(100, 1024 * 1024, 0);
    assert.deepEqual(indexes(rest?.records ?? []), [2]);
    await crashed.close();
    await spool.close();
  });
});
