import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AUDIT_FOLDER_LOCK, AuditFolderLock, AuditFolderLockedError } from '../src/audit/trail/audit-folder-lock.ts';

const LOCK_MODULE = fileURLToPath(new URL('../src/audit/trail/audit-folder-lock.ts', import.meta.url));
const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function folder(): string {
  const path = mkdtempSync(join(tmpdir(), 'portcullis-lock-'));
  folders.push(path);
  return path;
}

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** This machine's boot and pid namespace, as a lock names them. */
const HERE = { boot_id: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), pid_namespace: readlinkSync('/proc/self/ns/pid') };

function writeLock(directory: string, holder: Record<string, unknown>): void {
  writeFileSync(join(directory, AUDIT_FOLDER_LOCK), JSON.stringify({ instance: 'someone-else', since: '2026-01-01T00:00:00.000Z', host: 'this-host', process_started: null, ...HERE, ...holder }));
}

/** Touches the lock every 20 ms, as a live holder elsewhere would; returns the stop. */
function heartbeatOf(path: string): () => void {
  let beat = Date.now() / 1000;
  const timer = setInterval(() => utimesSync(path, (beat += 1), beat), 20);
  return () => clearInterval(timer);
}

const OPTIONS = { host: 'this-host', heartbeatMs: 40, staleAfterMs: 300 };

describe('the audit folder lock: one writer per audit folder', () => {
  test('a second holder in the same process is refused until the first lets go; letting go removes the lock', async () => {
    const directory = folder();
    const first = await AuditFolderLock.acquire(directory, OPTIONS);
    await assert.rejects(AuditFolderLock.acquire(directory, OPTIONS), (error: unknown) => {
      assert.ok(error instanceof AuditFolderLockedError);
      assert.match(error.message, new RegExp(`in use by another PDP \\(pid ${process.pid} on host this-host`));
      assert.match(error.message, /PORTCULLIS_AUDIT_DIR/);
      return true;
    });
    first.release();
    assert.equal(existsSync(join(directory, AUDIT_FOLDER_LOCK)), false);
    const second = await AuditFolderLock.acquire(directory, OPTIONS);
    second.release();
  });

  test('a lock naming a live process is refused; one naming a process that is gone, or a reused pid, is taken over', async () => {
    const directory = folder();
    const sleeper = spawn('sleep', ['60']);
    try {
      const pid = sleeper.pid!;
      writeLock(directory, { pid, process_started: startTime(pid) });
      await assert.rejects(AuditFolderLock.acquire(directory, OPTIONS), AuditFolderLockedError);
      // The same pid, started at another time: a reused pid, not the holder.
      writeLock(directory, { pid, process_started: '1' });
      const taken = await AuditFolderLock.acquire(directory, OPTIONS);
      assert.equal(JSON.parse(readFileSync(join(directory, AUDIT_FOLDER_LOCK), 'utf8')).pid, process.pid);
      taken.release();
    } finally {
      sleeper.kill();
    }
    const gone = spawn('true');
    const pid = gone.pid!;
    await new Promise((resolve) => gone.once('exit', resolve));
    writeLock(directory, { pid });
    const taken = await AuditFolderLock.acquire(directory, OPTIONS);
    taken.release();
    // This process's pid and start time, but no holder here: left by an instance that never let go.
    writeLock(directory, { pid: process.pid, process_started: startTime(process.pid) });
    (await AuditFolderLock.acquire(directory, OPTIONS)).release();
  });

  test('a lock from another host is refused while its heartbeat moves, and taken over once it stops; so is an unreadable one', async () => {
    const directory = folder();
    const path = join(directory, AUDIT_FOLDER_LOCK);
    writeLock(directory, { pid: 1, host: 'other-host' });
    const stop = heartbeatOf(path);
    try {
      await assert.rejects(AuditFolderLock.acquire(directory, OPTIONS), /pid 1 on host other-host/);
    } finally {
      stop();
    }
    const taken = await AuditFolderLock.acquire(directory, OPTIONS);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).host, 'this-host');
    taken.release();
    // Left empty or cut short by hand (a PDP links its lock in whole), or naming no usable pid.
    for (const text of ['', '{"pid":', JSON.stringify({ pid: 0, host: 'this-host', instance: 'x', since: 'x', process_started: null, ...HERE })]) {
      writeFileSync(path, text);
      (await AuditFolderLock.acquire(directory, OPTIONS)).release();
    }
  });

  test('the same host name in another pid namespace (a container) is another process table: its lock goes by its heartbeat, not by pid', async () => {
    const directory = folder();
    const path = join(directory, AUDIT_FOLDER_LOCK);
    // A pid that is gone here, and one that is alive here: neither says anything about a process in another namespace.
    for (const pid of [999_999_999, process.pid]) {
      writeLock(directory, { pid, pid_namespace: 'pid:[1]', process_started: '1' });
      const stop = heartbeatOf(path);
      try {
        await assert.rejects(AuditFolderLock.acquire(directory, OPTIONS), AuditFolderLockedError);
      } finally {
        stop();
      }
    }
    (await AuditFolderLock.acquire(directory, OPTIONS)).release();
  });

  test('what is not a lock file (a folder, a pipe, a link) is named with a clear error and left alone, without hanging', async () => {
    const cases: Array<[string, (path: string) => void, RegExp]> = [
      ['a folder', (path) => mkdirSync(path), /is a folder, not a lock a PDP wrote; remove it/],
      ['a pipe', (path) => execFileSync('mkfifo', [path]), /is not a regular file, not a lock a PDP wrote/],
      ['a link', (path) => symlinkSync('/etc/hostname', path), /is a symbolic link, not a lock a PDP wrote/],
    ];
    for (const [, make, message] of cases) {
      const directory = folder();
      make(join(directory, AUDIT_FOLDER_LOCK));
      await assert.rejects(AuditFolderLock.acquire(directory, OPTIONS), message);
      assert.equal(existsSync(join(directory, AUDIT_FOLDER_LOCK)) || lstatSync(join(directory, AUDIT_FOLDER_LOCK)).isSymbolicLink(), true);
    }
  });

  test('PDPs starting together on one folder never hold it at the same time (with no lock, a dead holder\'s, or a lock left empty)', async () => {
    const racer = `
      import { AuditFolderLock } from ${JSON.stringify(LOCK_MODULE)};
      import { appendFileSync } from 'node:fs';
      const [directory, journal, startAt] = process.argv.slice(1);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
      try {
        const lock = await AuditFolderLock.acquire(directory, { host: 'this-host', heartbeatMs: 40, staleAfterMs: 200 });
        appendFileSync(journal, 'acquire\\n');
        await new Promise((resolve) => setTimeout(resolve, 150));
        appendFileSync(journal, 'release\\n');
        lock.release();
      } catch (error) {
        if (error.name !== 'AuditFolderLockedError') throw error;
      }`;
    for (const start of ['none', 'dead', 'empty'] as const) {
      for (let round = 0; round < 3; round += 1) {
        const directory = folder();
        const journal = join(directory, 'journal');
        writeFileSync(journal, '');
        if (start === 'dead') writeLock(directory, { pid: 999_999_999 });
        if (start === 'empty') writeFileSync(join(directory, AUDIT_FOLDER_LOCK), '');
        const startAt = String(Date.now() + 1000);
        const racers = [0, 1].map(() => promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', racer, directory, journal, startAt]));
        await Promise.all(racers);
        let holders = 0;
        for (const line of readFileSync(journal, 'utf8').split('\n').filter(Boolean)) {
          holders += line === 'acquire' ? 1 : -1;
          assert.ok(holders <= 1, `${start}, round ${round}: two holders at once`);
        }
      }
    }
  });

  test('a holder whose lock was taken over finds out at its next heartbeat, and never touches the new holder\'s lock', async () => {
    const directory = folder();
    const path = join(directory, AUDIT_FOLDER_LOCK);
    const lock = await AuditFolderLock.acquire(directory, OPTIONS);
    const lost = new Promise<void>((resolve) => lock.onLost(resolve));
    rmSync(path);
    writeLock(directory, { pid: 1, host: 'other-host', instance: 'the-new-holder' });
    utimesSync(path, 1, 1);
    // The heartbeat keeps no process alive: this test's own timer does, until the loss is seen.
    const keepAlive = setInterval(() => undefined, 1000);
    await lost;
    clearInterval(keepAlive);
    assert.equal(statSync(path).mtimeMs, 1000, 'the new holder\'s lock was left untouched');
    lock.release();
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).instance, 'the-new-holder');
  });

  test('the holder keeps its lock fresh', async () => {
    const directory = folder();
    const path = join(directory, AUDIT_FOLDER_LOCK);
    const lock = await AuditFolderLock.acquire(directory, OPTIONS);
    utimesSync(path, 1, 1);
    const deadline = Date.now() + 10_000;
    while (statSync(path).mtimeMs === 1000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(Date.now() - statSync(path).mtimeMs < 10_000, 'the heartbeat moved the lock');
    lock.release();
    assert.equal(existsSync(path), false);
  });
});
