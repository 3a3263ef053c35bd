import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { AUDIT_FOLDER_LOCK, AuditFolderLock, AuditFolderLockedError } from '../src/audit/trail/audit-folder-lock.ts';

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

function writeLock(directory: string, holder: Record<string, unknown>): void {
  writeFileSync(join(directory, AUDIT_FOLDER_LOCK), JSON.stringify({ instance: 'someone-else', since: '2026-01-01T00:00:00.000Z', host: 'this-host', process_started: null, ...holder }));
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
    let beat = Date.now() / 1000;
    const heartbeat = setInterval(() => utimesSync(path, (beat += 1), beat), 20);
    try {
      await assert.rejects(AuditFolderLock.acquire(directory, OPTIONS), /pid 1 on host other-host/);
    } finally {
      clearInterval(heartbeat);
    }
    const taken = await AuditFolderLock.acquire(directory, OPTIONS);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).host, 'this-host');
    taken.release();
    // A crash between creating the lock and writing it.
    writeFileSync(path, '');
    (await AuditFolderLock.acquire(directory, OPTIONS)).release();
  });

  test('the holder keeps its lock fresh, and letting go leaves a lock taken over by another PDP alone', async () => {
    const directory = folder();
    const path = join(directory, AUDIT_FOLDER_LOCK);
    const lock = await AuditFolderLock.acquire(directory, OPTIONS);
    utimesSync(path, 1, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(Date.now() - statSync(path).mtimeMs < 5000, 'the heartbeat moved the lock');
    writeLock(directory, { pid: 1, host: 'other-host', instance: 'the-new-holder' });
    lock.release();
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).instance, 'the-new-holder');
  });
});
