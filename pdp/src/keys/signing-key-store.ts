import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK } from 'jose';
import { IncompleteKeyFileError, loadOrCreatePrivateKeyFile, writeDurably } from './private-key-file.ts';

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
 * The private key is created once however many processes start at once (private-key-file.ts);
 * the public JWKS is derived from whichever key won and written with temp-file + rename, so a
 * concurrent writer can only replace it with identical content.
 */
export async function loadOrCreateSigningKey(directory: string, label: string): Promise<SigningKey> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const privatePath = join(directory, PRIVATE_KEY_FILE);
  const privateJwk = await loadOrCreatePrivateKeyFile(privatePath, {
    label,
    read: readPrivateJwk,
    create: async () => `${JSON.stringify(await exportJWK((await generateKeyPair(SIGNING_KEY_ALGORITHM, { extractable: true })).privateKey))}\n`,
  });

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

/** A private JWK's text; a file cut short (still being copied into place) is read again. */
function readPrivateJwk(text: string): JWK {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new IncompleteKeyFileError('not JSON (yet)');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new IncompleteKeyFileError('not a JSON object');
  return parsed as JWK;
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

function isCryptoKey(key: CryptoKey | Uint8Array): key is CryptoKey {
  return !(key instanceof Uint8Array) && key.type === 'private';
}
