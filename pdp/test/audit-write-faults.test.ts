import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fs, { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { after, describe, mock, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { AuditRecord } from '../src/audit/trail/audit-sink.ts';
import { JsonlAuditSink } from '../src/audit/trail/jsonl-audit-sink.ts';
import { AuditSpool } from '../src/audit/trail/kafka/audit-spool.ts';
import { FsyncInlineWhenIdle, type FsyncPlacement } from '../src/audit/trail/durable-append.ts';

const SINK_MODULE = fileURLToPath(new URL('../src/audit/trail/jsonl-audit-sink.ts', import.meta.url));
const SPOOL_MODULE = fileURLToPath(new URL('../src/audit/trail/kafka/audit-spool.ts', import.meta.url));
const KEEP_ALL = { decisions: null, sessions: null, approvals: null, shadow: null, digests: null };
const NO_ROTATION = { maxBytes: 1e12, maxAgeMs: 1e12 };
const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function folder(): string {
  const path = mkdtempSync(join(tmpdir(), 'portcullis-sink-faults-'));
  folders.push(path);
  return path;
}

function record(stream: AuditRecord['stream'], n: number, padding = 0): AuditRecord {
  return { stream, key: `${stream}-${n}`, headers: {}, json: JSON.stringify({ stream, n, padding: 'x'.repeat(padding) }) };
}

/** Runs a module script in a child whose files may not pass 8 KiB; SIGXFSZ ignored, so a write past it fails with EFBIG. */
function underFileSizeLimit(script: string): Promise<{ stdout: string }> {
  return promisify(execFile)('bash', ['-c', 'trap "" XFSZ; ulimit -f 8; exec "$0" "$@"', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script]);
}

function lines(path: string): Array<{ n: number }> {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { n: number });
}

describe('audit writes that fail: the JSONL sink and the Kafka spool', () => {
  test('a stream that cannot be written keeps its records; a stream stored in the same batch is not written again on the retry', async () => {
    const directory = folder();
    // The approvals file is a folder: opening it fails, as a broken disk would.
    mkdirSync(join(directory, 'approvals.jsonl'));
    const sink = new JsonlAuditSink({ directory, maxQueuedEvents: 100, flushIntervalMs: 10, durability: 'sync', rotation: NO_ROTATION, retention: KEEP_ALL });
    for (const each of [record('decisions', 1), record('approvals', 2), record('decisions', 3)]) assert.equal(sink.append(each), true);
    await assert.rejects(sink.flush(), /audit sink cannot write: EISDIR/);
    assert.deepEqual(lines(join(directory, 'decisions.jsonl')).map((line) => line.n), [1, 3]);
    assert.equal(sink.progress().durable, 0, 'nothing counts as durable while part of the batch is not stored');
    assert.equal(sink.hasCapacity(), false);

    rmdirSync(join(directory, 'approvals.jsonl'));
    await sink.flush();
    assert.deepEqual(lines(join(directory, 'decisions.jsonl')).map((line) => line.n), [1, 3]);
    assert.deepEqual(lines(join(directory, 'approvals.jsonl')).map((line) => line.n), [2]);
    assert.deepEqual(sink.progress(), { appended: 3, durable: 3 });
    assert.equal(sink.hasCapacity(), true);
    await sink.close();
  });

  test('a write cut short (the file size limit) is cut back to its last whole line, and nothing of it counts as durable', async () => {
    const directory = folder();
    const script = `
      const { JsonlAuditSink } = await import(${JSON.stringify(SINK_MODULE)});
      const sink = new JsonlAuditSink({ directory: ${JSON.stringify(directory)}, maxQueuedEvents: 100, flushIntervalMs: 10, durability: 'sync', rotation: ${JSON.stringify(NO_ROTATION)}, retention: ${JSON.stringify(KEEP_ALL)} });
      let error = '';
      for (let n = 1; n <= 5 && !error; n += 1) {
        sink.append({ stream: 'decisions', key: 'k', headers: {}, json: JSON.stringify({ n, padding: 'x'.repeat(2990) }) });
        await sink.flush().catch((failure) => { error = failure.message; });
      }
      console.log(JSON.stringify({ error, progress: sink.progress() }));
      process.exit(0);
    `;
    const { stdout } = await underFileSizeLimit(script);
    const outcome = JSON.parse(stdout.trim().split('\n').pop()!) as { error: string; progress: { appended: number; durable: number } };
    assert.match(outcome.error, /EFBIG/);
    assert.deepEqual(outcome.progress, { appended: 3, durable: 2, failure: 'EFBIG: file too large, write' });
    const path = join(directory, 'decisions.jsonl');
    assert.deepEqual(lines(path).map((line) => line.n), [1, 2]);
    assert.equal(readFileSync(path, 'utf8').endsWith('\n'), true);
    assert.ok(statSync(path).size < 8192);
  });

  test('a spool write cut short is cut back to the last whole record: what is durable reads back whole, in order', async () => {
    const directory = folder();
    const script = `
      const { AuditSpool } = await import(${JSON.stringify(SPOOL_MODULE)});
      const spool = AuditSpool.open({ directory: ${JSON.stringify(directory)}, maxBytes: 1 << 20, segmentBytes: 1 << 20, syncIntervalMs: 5, durability: 'sync' });
      let error = '';
      for (let n = 1; n <= 5 && !error; n += 1) {
        spool.append({ stream: 'decisions', key: 'k' + n, headers: { 'content-type': 'application/json' }, json: JSON.stringify({ n, padding: 'x'.repeat(2950) }) });
        await spool.flush().catch((failure) => { error = failure.message; });
      }
      const batch = await spool.readBatch(100, 1 << 20, 0);
      console.log(JSON.stringify({ error, durable: spool.durableRecords, read: batch.records.map((record) => JSON.parse(record.value.toString()).n) }));
      process.exit(0);
    `;
    const { stdout } = await underFileSizeLimit(script);
    const outcome = JSON.parse(stdout.trim().split('\n').pop()!) as { error: string; durable: number; read: number[] };
    assert.match(outcome.error, /audit spool cannot write: EFBIG/);
    assert.equal(outcome.durable, 2);
    assert.deepEqual(outcome.read, [1, 2]);
    const segment = readFileSync(join(directory, 'spool-00000001.log'), 'utf8');
    assert.equal(segment.endsWith('\n'), true, 'no half record at the end of the segment');
    assert.equal(segment.split('\n').filter(Boolean).length, 2);
  });

  test('a failed write whose cut-back failed too is cut off before the next line; bytes this process did not write are never cut', async () => {
    // A write that fails half way and a cut-back that fails: faults a real file does not give on demand.
    const failOnce = (): void => {
      const realWrite = fs.writeSync;
      mock.method(fs, 'writeSync', (fd: number, buffer: Buffer, offset: number, length: number) => {
        realWrite(fd, buffer, offset, Math.floor(length / 2));
        throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      }, { times: 1 });
      mock.method(fs, 'ftruncateSync', () => {
        throw Object.assign(new Error('EIO: i/o error, ftruncate'), { code: 'EIO' });
      }, { times: 1 });
      syncBuiltinESMExports();
    };
    const restore = (): void => {
      mock.restoreAll();
      syncBuiltinESMExports();
    };

    const directory = folder();
    const sink = new JsonlAuditSink({ directory, maxQueuedEvents: 100, flushIntervalMs: 10, durability: 'sync', rotation: NO_ROTATION, retention: KEEP_ALL });
    assert.equal(sink.append(record('decisions', 1)), true);
    await sink.flush();
    failOnce();
    try {
      assert.equal(sink.append(record('decisions', 2)), true);
      await assert.rejects(sink.flush(), /EIO/);
    } finally {
      restore();
    }
    assert.notEqual(readFileSync(join(directory, 'decisions.jsonl'), 'utf8').at(-1), '\n', 'half of record 2 is left in the file');
    await sink.flush();
    assert.deepEqual(lines(join(directory, 'decisions.jsonl')).map((line) => line.n), [1, 2]);
    // Bytes another writer put past what this sink stored are not cut: they stay, and so does the next line.
    appendFileSync(join(directory, 'decisions.jsonl'), `${JSON.stringify({ n: 99 })}\n`);
    assert.equal(sink.append(record('decisions', 3)), true);
    await sink.flush();
    assert.deepEqual(lines(join(directory, 'decisions.jsonl')).map((line) => line.n), [1, 2, 99, 3]);
    await sink.close();

    const spoolDirectory = folder();
    const spool = AuditSpool.open({ directory: spoolDirectory, maxBytes: 1 << 20, segmentBytes: 1 << 20, syncIntervalMs: 5, durability: 'sync' });
    assert.equal(spool.append({ stream: 'decisions', key: 'k1', headers: {}, json: '{"n":1}' }), true);
    await spool.flush();
    failOnce();
    try {
      assert.equal(spool.append({ stream: 'decisions', key: 'k2', headers: {}, json: '{"n":2}' }), true);
      await assert.rejects(spool.flush(), /EIO/);
    } finally {
      restore();
    }
    await spool.flush();
    const batch = await spool.readBatch(100, 1 << 20, 0);
    assert.deepEqual(batch?.records.map((each) => each.value.toString('utf8')), ['{"n":1}', '{"n":2}']);
    assert.equal(readFileSync(join(spoolDirectory, 'spool-00000001.log'), 'utf8').split('\n').filter(Boolean).length, 2);
    await spool.close();
  });

  test('an fsync on the writing thread (inline placement) that fails is handled as one on the pool: cut back, kept, stored on the retry', async () => {
    const failFsyncOnce = () => {
      const fsync = mock.method(fs, 'fdatasyncSync', () => {
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      }, { times: 1 });
      syncBuiltinESMExports();
      return fsync;
    };
    const restore = (): void => {
      mock.restoreAll();
      syncBuiltinESMExports();
    };
    const took: number[] = [];
    const inline: FsyncPlacement = { choose: () => 'inline', inlineTook: (ms) => void took.push(ms) };

    const directory = folder();
    const sink = new JsonlAuditSink({ directory, maxQueuedEvents: 100, flushIntervalMs: 10, durability: 'sync', rotation: NO_ROTATION, retention: KEEP_ALL, fsyncPlacement: inline });
    assert.equal(sink.append(record('decisions', 1)), true);
    await sink.flush();
    const fsync = failFsyncOnce();
    try {
      assert.equal(sink.append(record('decisions', 2)), true);
      await assert.rejects(sink.flush(), /EIO/);
      assert.equal(fsync.mock.callCount(), 1, 'the fsync ran on the writing thread');
      assert.equal(took.at(-1), Number.POSITIVE_INFINITY, 'a failed inline fsync is reported as one that never ended');
    } finally {
      restore();
    }
    assert.deepEqual(lines(join(directory, 'decisions.jsonl')).map((line) => line.n), [1], 'the unsynced line is cut back');
    assert.deepEqual(sink.progress(), { appended: 2, durable: 1, failure: 'EIO: i/o error, fdatasync' });
    await sink.flush();
    assert.deepEqual(lines(join(directory, 'decisions.jsonl')).map((line) => line.n), [1, 2]);
    assert.deepEqual(sink.progress(), { appended: 2, durable: 2 });
    await sink.close();

    const spoolDirectory = folder();
    const spool = AuditSpool.open({ directory: spoolDirectory, maxBytes: 1 << 20, segmentBytes: 1 << 20, syncIntervalMs: 5, durability: 'sync', fsyncPlacement: inline });
    assert.equal(spool.append({ stream: 'decisions', key: 'k1', headers: {}, json: '{"n":1}' }), true);
    await spool.flush();
    const spoolFsync = failFsyncOnce();
    try {
      assert.equal(spool.append({ stream: 'decisions', key: 'k2', headers: {}, json: '{"n":2}' }), true);
      await assert.rejects(spool.flush(), /EIO/);
      assert.equal(spoolFsync.mock.callCount(), 1);
    } finally {
      restore();
    }
    assert.equal(spool.durableRecords, 1);
    await spool.flush();
    const batch = await spool.readBatch(100, 1 << 20, 0);
    assert.deepEqual(batch?.records.map((each) => each.value.toString('utf8')), ['{"n":1}', '{"n":2}']);
    await spool.close();
  });

  test('fsync placement: inline for a small commit while nothing waits for the thread; the pool otherwise, and for a while after a slow or failed one', () => {
    let waiting = false;
    let now = 1000;
    const placement = new FsyncInlineWhenIdle(4, () => waiting, 2, 5000, () => now);
    const choose = (records: number): string => placement.choose(records);
    assert.deepEqual([1, 4, 5, 100].map(choose), ['inline', 'inline', 'pool', 'pool']);
    waiting = true;
    assert.deepEqual([1, 4, 5].map(choose), ['pool', 'pool', 'pool']);
    waiting = false;
    placement.inlineTook(1.5);
    assert.equal(choose(1), 'inline', 'a quick fsync changes nothing');
    placement.inlineTook(40);
    assert.equal(choose(1), 'pool', 'a slow one sends the next to the pool');
    now += 4999;
    assert.equal(choose(1), 'pool');
    now += 1;
    assert.equal(choose(1), 'inline', 'until the back-off has passed');
    placement.inlineTook(Number.POSITIVE_INFINITY);
    assert.equal(choose(1), 'pool', 'a failed one too');
  });

  test('a stalled inline fsync sends the fsyncs after it to the pool: the writing thread is blocked once, not on every commit', async () => {
    const directory = folder();
    const placement = new FsyncInlineWhenIdle(4, () => false, 2, 60_000);
    const sink = new JsonlAuditSink({ directory, maxQueuedEvents: 100, flushIntervalMs: 10, durability: 'sync', rotation: NO_ROTATION, retention: KEEP_ALL, fsyncPlacement: placement });
    const realSync = fs.fdatasyncSync;
    // One fsync that takes 20 ms of the thread, as a stalled disk does (then the real one).
    const inlineSync = mock.method(fs, 'fdatasyncSync', (fd: number) => {
      const until = performance.now() + 20;
      while (performance.now() < until);
      realSync(fd);
    });
    const poolSync = mock.method(fs, 'fdatasync');
    syncBuiltinESMExports();
    try {
      for (let n = 1; n <= 3; n += 1) {
        assert.equal(sink.append(record('decisions', n)), true);
        await sink.flush();
      }
    } finally {
      mock.restoreAll();
      syncBuiltinESMExports();
    }
    assert.equal(inlineSync.mock.callCount(), 1);
    assert.equal(poolSync.mock.callCount(), 2);
    assert.deepEqual(lines(join(directory, 'decisions.jsonl')).map((line) => line.n), [1, 2, 3]);
    await sink.close();
  });
});

