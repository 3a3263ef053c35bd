import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink, copyFile, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK } from 'jose';

export const SIGNING_KEY_ALGORITHM = 'ES256';
export const PRIVATE_KEY_FILE = 'private-key.jwk';
export const PUBLIC_JWKS_FILE = 'jwks.json';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwks: JSONWebKeySet;
}

/**
 * Loads an ES256 key pair from `directory`, creating it on first use: `private-key.jwk` (0600,
 * refused when others can read it) and `jwks.json`, the public set verifiers are given.
 * `label` names the key in errors ("dev issuer key", "audit signing key").
 *
 * The private key is published with link(2), which fails if the name already exists, so when two
 * processes start at once exactly one key wins, nobody overwrites it, and nobody ever reads a
 * half-written file. The public JWKS is derived from whichever key won and written with
 * temp-file + rename, so a concurrent writer can only replace it with identical content.
 */
export async function loadOrCreateSigningKey(directory: string, label: string): Promise<SigningKey> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const privatePath = join(directory, PRIVATE_KEY_FILE);
  const privateJwk = (await readPrivateJwk(privatePath, label)) ?? (await createPrivateJwk(directory, privatePath, label));

  const { kty, crv, x, y, d } = privateJwk;
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string' || typeof d !== 'string') {
    throw new Error(`${label} ${privatePath} is not a P-256 private JWK`);
  }
  const publicJwk: JWK = { kty, crv, x, y };
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateKey = await importJWK({ kty, crv, x, y, d }, SIGNING_KEY_ALGORITHM);
  if (!isCryptoKey(privateKey)) throw new Error(`${label} ${privatePath} did not import as a private key`);

  const jwks: JSONWebKeySet = { keys: [{ ...publicJwk, kid, alg: SIGNING_KEY_ALGORITHM, use: 'sig' }] };
  await writePublicJwks(directory, jwks);
  return { kid, privateKey, jwks };
}

async function readPrivateJwk(path: string, label: string): Promise<JWK | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  // Like ssh: a signing key others can read lets them forge what it signs, so refuse it.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(`${label} ${path} is accessible to other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`);
  }
  // Only the copy fallback below can expose a partly written file; give its writer a moment.
  for (let attempt = 0; ; attempt += 1) {
    try {
      const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as JWK;
      throw new SyntaxError('not a JSON object');
    } catch (error) {
      if (!(error instanceof SyntaxError) || attempt >= 20) {
        throw new Error(`${label} ${path} is unreadable: ${error instanceof Error ? error.message : String(error)}`);
      }
      await sleep(25);
    }
  }
}

async function createPrivateJwk(directory: string, privatePath: string, label: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(SIGNING_KEY_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const temp = join(directory, `.${PRIVATE_KEY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await writeDurably(temp, `${JSON.stringify(jwk)}\n`, 0o600);
  try {
    await publishExclusive(temp, privatePath);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  // Read back rather than trust our own copy: another process may have published first.
  const winner = await readPrivateJwk(privatePath, label);
  if (!winner) throw new Error(`${label} ${privatePath} vanished while being created`);
  return winner;
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

async function writePublicJwks(directory: string, jwks: JSONWebKeySet): Promise<void> {
  const path = join(directory, PUBLIC_JWKS_FILE);
  const content = `${JSON.stringify(jwks, null, 2)}\n`;
  // Leave an identical file alone so readers watching its mtime do not reload for nothing.
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing === content) return;
  const temp = join(directory, `.${PUBLIC_JWKS_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await writeDurably(temp, content, 0o644);
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
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

function isCryptoKey(key: CryptoKey | Uint8Array): key is CryptoKey {
  return !(key instanceof Uint8Array) && key.type === 'private';
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
