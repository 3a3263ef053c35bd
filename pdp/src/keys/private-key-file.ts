import { randomBytes } from 'node:crypto';
import { copyFile, constants, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Thrown by a reader for a file that may still be being copied into place: read again shortly. */
export class IncompleteKeyFileError extends Error {}

export interface PrivateKeyFile<T> {
  /** Names the key in errors ("audit signing key", "decision key"). */
  readonly label: string;
  /** Parses the file's text; throws IncompleteKeyFileError for text that may be half written. */
  read(text: string): T;
  /** The content of a new key, when none exists yet. */
  create(): Promise<string>;
}

/**
 * Loads a secret key file, creating it on first use (mode 0600, refused when others can read it:
 * whoever reads it can forge what it signs or seals). A new file is published with link(2), which
 * fails if the name already exists, so when several processes start at once exactly one key wins,
 * nobody overwrites it, and everyone reads the winner back.
 */
export async function loadOrCreatePrivateKeyFile<T>(path: string, file: PrivateKeyFile<T>): Promise<T> {
  const existing = await readPrivateKeyFile(path, file);
  if (existing !== undefined) return existing;
  const directory = dirname(path);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const temp = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await writeDurably(temp, await file.create(), 0o600);
  try {
    await publishExclusive(temp, path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  // Read back rather than trust our own copy: another process may have published first.
  const winner = await readPrivateKeyFile(path, file);
  if (winner === undefined) throw new Error(`${file.label} ${path} vanished while being created`);
  return winner;
}

async function readPrivateKeyFile<T>(path: string, file: PrivateKeyFile<T>): Promise<T | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  // Like ssh: a key others can read lets them forge what it signs, so refuse it.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(`${file.label} ${path} is accessible to other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`);
  }
  // Only the copy fallback of publishExclusive can expose a partly written file; give its writer a moment.
  for (let attempt = 0; ; attempt += 1) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new Error(`${file.label} ${path} is unreadable: ${(error as Error).message}`);
    }
    try {
      return file.read(text);
    } catch (error) {
      if (!(error instanceof IncompleteKeyFileError)) throw error;
      if (attempt >= 20) throw new Error(`${file.label} ${path} is unreadable: ${error.message}`);
      await sleep(25);
    }
  }
}

/** Makes `temp` visible as `target` unless `target` already exists; losing that race is not an error. */
export async function publishExclusive(temp: string, target: string): Promise<void> {
  try {
    await link(temp, target);
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return;
    if (!isErrno(error, 'EPERM') && !isErrno(error, 'ENOTSUP') && !isErrno(error, 'EXDEV')) throw error;
    // Filesystems without hard links: O_EXCL copy still guarantees a single winner.
    try {
      await copyFile(temp, target, constants.COPYFILE_EXCL);
    } catch (copyError) {
      if (!isErrno(copyError, 'EEXIST')) throw copyError;
    }
  }
}

export async function writeDurably(path: string, content: string, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
