import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { publishExclusive, writeDurably } from './signing-key-store.ts';

const KEY_BYTES = 32;

/**
 * Loads the secret that seals decision ids from `path`, creating it (32 random bytes, base64url,
 * mode 0600) on first use. Replicas that share the file (the same state folder, or
 * PORTCULLIS_DECISION_KEY_FILE) verify each other's decision ids. As with the signing keys, the
 * file is published with link(2), so replicas starting at once agree on one key, and a file
 * others can read is refused: whoever reads it can forge decision ids.
 */
export async function loadOrCreateDecisionKey(path: string): Promise<Buffer> {
  const existing = await readKey(path);
  if (existing) return existing;
  const directory = dirname(path);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const temp = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await writeDurably(temp, `${randomBytes(KEY_BYTES).toString('base64url')}\n`, 0o600);
  try {
    await publishExclusive(temp, path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const winner = await readKey(path);
  if (!winner) throw new Error(`decision key ${path} vanished while being created`);
  return winner;
}

async function readKey(path: string): Promise<Buffer | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(`decision key ${path} is accessible to other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`);
  }
  const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
  if (key.length < KEY_BYTES) throw new Error(`decision key ${path} must hold at least ${KEY_BYTES} bytes, base64url`);
  return key;
}
