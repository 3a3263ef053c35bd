import { randomUUID } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, readSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
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
  /** Which boot and which pid namespace the pid is counted in: a container sharing the host name is another process table. */
  readonly boot_id: string | null;
  readonly pid_namespace: string | null;
  /** This holder alone: tells a PDP in this process from an earlier one that never let go. */
  readonly instance: string;
  readonly since: string;
}

export interface AuditFolderLockOptions {
  /** How often the holder checks and touches its lock, so a PDP elsewhere can tell it is alive (default 5 s). */
  readonly heartbeatMs?: number;
  /** A lock whose holder's liveness cannot be checked here, left untouched this long, is stale (default 3 heartbeats). */
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
/** A lock is a few hundred bytes; anything much larger was not written by a PDP. */
const MAX_LOCK_BYTES = 4096;
/** A takeover takes milliseconds: a takeover marker older than this was left by a PDP that died in one. */
const TAKEOVER_STALE_MS = 10_000;

/**
 * Which file a lock is: its inode and change time. The inode number alone is not enough: one freed
 * by removing a stale lock can be given at once to the next lock made.
 */
type FileIdentity = string;

type Inspected =
  | { readonly kind: 'missing' }
  | { readonly kind: 'holder'; readonly holder: LockHolder; readonly file: FileIdentity }
  | { readonly kind: 'unreadable'; readonly file: FileIdentity };

/**
 * One writer per audit folder. A second PDP pointed at a folder a live PDP writes (its JSONL
 * streams, Kafka spool and producer ledger) would interleave two hash chains in the same files,
 * so it refuses to start instead. The lock is a file linked into place whole (never seen empty),
 * naming its holder. It is stale, and taken over, when that holder is gone: on this machine (same
 * host, boot and pid namespace), no process with its pid and start time, or, in this process, no
 * PDP holding it; elsewhere (a shared volume, another container), no heartbeat for `staleAfterMs`.
 * A takeover removes only the very lock judged stale (that file, unchanged), one taker at a time. A holder
 * whose lock was taken over or removed finds out at its next heartbeat (`onLost`).
 */
export class AuditFolderLock {
  private readonly heartbeat: NodeJS.Timeout;
  private released = false;
  private readonly lostListeners: Array<() => void> = [];

  private constructor(
    readonly path: string,
    private readonly holder: LockHolder,
    heartbeatMs: number,
  ) {
    heldInThisProcess.add(holder.instance);
    // It keeps no process alive.
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs).unref();
  }

  static async acquire(directory: string, options: AuditFolderLockOptions = {}): Promise<AuditFolderLock> {
    const heartbeatMs = options.heartbeatMs ?? 5000;
    const staleAfterMs = options.staleAfterMs ?? 3 * heartbeatMs;
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const path = join(directory, AUDIT_FOLDER_LOCK);
    const here = machine(options.host ?? osHostname());
    const holder: LockHolder = { pid: process.pid, process_started: processStarted(process.pid), ...here, instance: randomUUID(), since: new Date().toISOString() };
    for (let attempt = 0; attempt < 20; attempt += 1) {
      if (linkWhole(path, holder)) return new AuditFolderLock(path, holder, heartbeatMs);
      const found = inspect(path);
      if (found.kind === 'missing') continue;
      const stale = found.kind === 'holder' && sameMachine(found.holder, here) ? goneHere(found.holder) : await untouchedFor(path, found.file, staleAfterMs);
      if (!stale) throw new AuditFolderLockedError(directory, found.kind === 'holder' ? found.holder : undefined, path);
      if (await removeIfStill(path, found.file)) {
        options.log?.(`audit: took over the lock of ${directory} from a PDP that is gone (${found.kind === 'holder' ? `pid ${found.holder.pid} on host ${found.holder.host}` : 'an unreadable lock'})`);
      }
    }
    throw new Error(`audit: could not take the lock of ${directory}: other PDPs kept taking it`);
  }

  /** Called once if the lock is found taken over or removed: this PDP must stop writing the folder. */
  onLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }

  /** Lets go of the folder: removes the lock if it is still this holder's. */
  release(): void {
    if (!this.letGo()) return;
    if (!this.stillMine()) return;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone: nothing to let go of.
    }
  }

  /** Stops the heartbeat and forgets the hold; false if that was done already. */
  private letGo(): boolean {
    if (this.released) return false;
    this.released = true;
    clearInterval(this.heartbeat);
    heldInThisProcess.delete(this.holder.instance);
    return true;
  }

  /** The lock at the path names this holder (read each time: an inode number can be reused). */
  private stillMine(): boolean {
    try {
      const found = inspect(this.path);
      return found.kind === 'holder' && found.holder.instance === this.holder.instance;
    } catch {
      return false;
    }
  }

  private beat(): void {
    if (!this.stillMine()) {
      // Not ours any more: never touch another holder's lock (its heartbeat is its own).
      if (this.letGo()) for (const listener of this.lostListeners) listener();
      return;
    }
    const now = new Date();
    try {
      utimesSync(this.path, now, now);
    } catch {
      // Gone between the check and the touch: the next beat reports it.
    }
  }
}

/**
 * Writes the holder to a file of its own, then links it in as the lock: a lock is never seen
 * half written. False when a lock is already there.
 */
function linkWhole(path: string, holder: LockHolder): boolean {
  const draft = `${path}.new-${holder.instance}`;
  const fd = openSync(draft, 'wx', 0o600);
  try {
    try {
      writeSync(fd, `${JSON.stringify(holder)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(draft, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    return true;
  } finally {
    unlinkSync(draft);
  }
}

/** What is at the lock's path, read without following a link or blocking on a pipe. */
function inspect(path: string): Inspected {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'ELOOP') throw notALock(path, 'a symbolic link');
    throw new Error(`audit: cannot read the lock ${path}: ${(error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw notALock(path, stat.isDirectory() ? 'a folder' : 'not a regular file');
    const file = identity(stat);
    if (stat.size > MAX_LOCK_BYTES) return { kind: 'unreadable', file };
    const buffer = Buffer.alloc(stat.size);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    const holder = parseHolder(buffer.subarray(0, read).toString('utf8'));
    return holder ? { kind: 'holder', holder, file } : { kind: 'unreadable', file };
  } finally {
    closeSync(fd);
  }
}

function notALock(path: string, what: string): Error {
  return new Error(`audit: ${path} is ${what}, not a lock a PDP wrote; remove it if no PDP writes this audit folder`);
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(text) as Record<string, unknown>;
    const optionalText = (value: unknown): boolean => value === null || typeof value === 'string';
    const valid =
      Number.isSafeInteger(holder.pid) && (holder.pid as number) > 0 &&
      typeof holder.host === 'string' && typeof holder.instance === 'string' && typeof holder.since === 'string' &&
      optionalText(holder.process_started) && optionalText(holder.boot_id ?? null) && optionalText(holder.pid_namespace ?? null);
    return valid ? { ...(holder as unknown as LockHolder), boot_id: (holder.boot_id as string | null) ?? null, pid_namespace: (holder.pid_namespace as string | null) ?? null } : undefined;
  } catch {
    return undefined;
  }
}

/** The host, boot and pid namespace this process's pids are counted in. */
function machine(host: string): Pick<LockHolder, 'host' | 'boot_id' | 'pid_namespace'> {
  const read = (read: () => string): string | null => {
    try {
      return read().trim();
    } catch {
      return null;
    }
  };
  return { host, boot_id: read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')), pid_namespace: read(() => readlinkSync('/proc/self/ns/pid')) };
}

/** Pids mean the same process here only on the same host, since the same boot, in the same pid namespace. */
function sameMachine(holder: LockHolder, here: Pick<LockHolder, 'host' | 'boot_id' | 'pid_namespace'>): boolean {
  return holder.host === here.host && holder.boot_id === here.boot_id && holder.pid_namespace === here.pid_namespace;
}

/** On this machine: the holder's process is gone (or its pid now names another process). */
function goneHere(holder: LockHolder): boolean {
  if (holder.pid === process.pid && holder.process_started === processStarted(process.pid)) return !heldInThisProcess.has(holder.instance);
  if (!processExists(holder.pid)) return true;
  const started = processStarted(holder.pid);
  return started !== null && holder.process_started !== null && started !== holder.process_started;
}

/** True when the lock (that very file) is not touched for `ms`: its holder's heartbeat stopped. */
async function untouchedFor(path: string, file: FileIdentity, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (identityOf(path) === file) {
    if (Date.now() >= deadline) return true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, Math.max(10, ms / 10))));
  }
  // Touched, replaced or removed meanwhile: a holder is at work (the next turn looks again).
  return false;
}

/** A touch changes the change time too, so a lock whose identity holds still was not touched. */
function identity(stat: Stats): FileIdentity {
  return `${stat.dev}:${stat.ino}:${stat.ctimeMs}`;
}

function identityOf(path: string): FileIdentity | undefined {
  try {
    return identity(lstatSync(path));
  } catch {
    return undefined;
  }
}

/**
 * Removes the lock judged stale, if the lock at the path is still that very file. One taker at a
 * time (an exclusive takeover marker), so no taker removes a lock another taker just made.
 */
async function removeIfStill(path: string, judged: FileIdentity): Promise<boolean> {
  const marker = `${path}.takeover`;
  try {
    closeSync(openSync(marker, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const left = modifiedAt(marker);
    if (left !== undefined && Date.now() - left > TAKEOVER_STALE_MS) removeQuietly(marker);
    else await new Promise((resolve) => setTimeout(resolve, 20));
    return false;
  }
  try {
    if (identityOf(path) !== judged) return false;
    unlinkSync(path);
    return true;
  } finally {
    removeQuietly(marker);
  }
}

function modifiedAt(path: string): number | undefined {
  try {
    return lstatSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Someone else removed it first.
  }
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
