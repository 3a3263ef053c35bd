import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';

/** The lock's name inside the audit folder. */
export const AUDIT_FOLDER_LOCK = 'writer.lock';

/** Who holds an audit folder: written into the lock when it is taken. */
interface LockHolder {
  readonly pid: number;
  /** The holder process's start time (Linux clock ticks since boot): a reused pid is not the holder. */
  readonly process_started: string | null;
  readonly host: string;
  /** This holder alone: tells a PDP in this process from an earlier one that never let go. */
  readonly instance: string;
  readonly since: string;
}

export interface AuditFolderLockOptions {
  /** How often the holder touches the lock, so a PDP on another host can tell it is alive (default 5 s). */
  readonly heartbeatMs?: number;
  /** A lock from another host left untouched this long is stale (default 3 heartbeats). */
  readonly staleAfterMs?: number;
  /** The host name written into the lock and compared with a holder's (default: the machine's). */
  readonly host?: string;
  readonly log?: (message: string) => void;
}

/** The audit folder is in use by another live PDP: this one must not write into it. */
export class AuditFolderLockedError extends Error {
  constructor(directory: string, holder: LockHolder | undefined, lockPath: string) {
    const who = holder ? `pid ${holder.pid} on host ${holder.host}, since ${holder.since}` : 'a holder whose lock cannot be read';
    super(
      `the audit folder ${directory} is in use by another PDP (${who}): two writers would break its hash chains. ` +
        `Stop that PDP, or give this one its own folder (PORTCULLIS_AUDIT_DIR). If no PDP writes there any more, remove ${lockPath}.`,
    );
    this.name = 'AuditFolderLockedError';
  }
}

/** Instances holding a lock in this process (a PDP started twice in one process is two writers too). */
const heldInThisProcess = new Set<string>();

/**
 * One writer per audit folder. A second PDP pointed at a folder a live PDP writes (its JSONL
 * streams, Kafka spool and producer ledger) would interleave two hash chains in the same files
 * and cut back each other's partial writes, so it refuses to start instead. The lock is a file
 * created exclusively, naming its holder; it is stale, and taken over, when that holder is gone:
 * on this host, no process with its pid and start time (or, in this process, no PDP holding it);
 * from another host (a shared volume), no heartbeat for `staleAfterMs`.
 */
export class AuditFolderLock {
  private readonly heartbeat: NodeJS.Timeout;
  private released = false;

  private constructor(
    readonly path: string,
    private readonly holder: LockHolder,
    heartbeatMs: number,
  ) {
    heldInThisProcess.add(holder.instance);
    // The heartbeat only matters to a PDP on another host sharing the folder; it keeps no process alive.
    this.heartbeat = setInterval(() => this.touch(), heartbeatMs).unref();
  }

  static async acquire(directory: string, options: AuditFolderLockOptions = {}): Promise<AuditFolderLock> {
    const heartbeatMs = options.heartbeatMs ?? 5000;
    const staleAfterMs = options.staleAfterMs ?? 3 * heartbeatMs;
    const host = options.host ?? osHostname();
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const path = join(directory, AUDIT_FOLDER_LOCK);
    const holder: LockHolder = { pid: process.pid, process_started: processStarted(process.pid), host, instance: randomUUID(), since: new Date().toISOString() };
    // A few turns: between reading a stale lock and moving it aside another PDP may act too.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      if (createExclusive(path, holder)) return new AuditFolderLock(path, holder, heartbeatMs);
      const found = readHolder(path);
      if (found === 'missing') continue;
      const stale = found === 'unreadable' ? await untouchedFor(path, staleAfterMs) : await isStale(found, path, host, staleAfterMs);
      if (!stale) throw new AuditFolderLockedError(directory, found === 'unreadable' ? undefined : found, path);
      if (moveAsideIfUnchanged(path, found)) {
        options.log?.(`audit: took over the lock of ${directory} from a PDP that is gone (${found === 'unreadable' ? 'an unreadable lock' : `pid ${found.pid} on host ${found.host}`})`);
      }
    }
    throw new Error(`audit: could not take the lock of ${directory}: other PDPs kept taking it`);
  }

  /** Lets go of the folder: removes the lock if it is still this holder's. */
  release(): void {
    if (this.released) return;
    this.released = true;
    clearInterval(this.heartbeat);
    heldInThisProcess.delete(this.holder.instance);
    const found = readHolder(this.path);
    if (typeof found === 'object' && found.instance === this.holder.instance) {
      try {
        unlinkSync(this.path);
      } catch {
        // Already gone: nothing to let go of.
      }
    }
  }

  private touch(): void {
    const now = new Date();
    try {
      utimesSync(this.path, now, now);
    } catch {
      // Removed by hand while held: the next start finds no lock; nothing to do here.
    }
  }
}

function createExclusive(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify(holder)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readHolder(path: string): LockHolder | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const holder = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isSafeInteger(holder.pid) && typeof holder.host === 'string' && typeof holder.instance === 'string' && typeof holder.since === 'string') return holder as LockHolder;
  } catch {
    // A crash between creating and writing the lock leaves it empty or cut short.
  }
  return 'unreadable';
}

async function isStale(holder: LockHolder, path: string, host: string, staleAfterMs: number): Promise<boolean> {
  if (holder.host !== host) return untouchedFor(path, staleAfterMs);
  if (holder.pid === process.pid && holder.process_started === processStarted(process.pid)) return !heldInThisProcess.has(holder.instance);
  if (!processExists(holder.pid)) return true;
  // A live process with that pid that started at another time is not the holder (a reused pid).
  const started = processStarted(holder.pid);
  return started !== null && holder.process_started !== null && started !== holder.process_started;
}

/** True when the lock's modification time does not move for `ms`: its holder's heartbeat stopped. */
async function untouchedFor(path: string, ms: number): Promise<boolean> {
  const first = modifiedAt(path);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, Math.max(10, ms / 10))));
    const now = modifiedAt(path);
    if (now === undefined) return true;
    if (now !== first) return false;
  }
  return true;
}

function modifiedAt(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Moves a stale lock aside so a fresh one can be created exclusively. If what was moved is not
 * the lock judged stale (another PDP took over meanwhile), it is put back where it was.
 */
function moveAsideIfUnchanged(path: string, judged: LockHolder | 'unreadable'): boolean {
  const aside = `${path}.stale-${randomUUID()}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = readHolder(aside);
  const same = judged === 'unreadable' ? moved === 'unreadable' : typeof moved === 'object' && moved.instance === judged.instance;
  if (!same) {
    // Someone else's fresh lock: put it back without replacing any lock made since (the next turn finds it held).
    try {
      linkSync(aside, path);
    } catch {
      // A third PDP created one meanwhile: that one stands.
    }
    unlinkSync(aside);
    return false;
  }
  unlinkSync(aside);
  return true;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's start time from /proc (field 22 of its stat), or null where there is no /proc. */
function processStarted(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
