import { createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

const MIN_KEY_BYTES = 32;

/**
 * The hash strategy's key from `PORTCULLIS_PEP_MASK_HASH_KEY_FILE` (preferred) or
 * `PORTCULLIS_PEP_MASK_HASH_KEY`: 64+ hex characters, or base64 of 32+ bytes. `undefined` when
 * neither is set. Errors name the setting, never the key.
 */
export function maskHashKeyFromEnv(env: Readonly<Record<string, string | undefined>>): KeyObject | undefined {
  const file = env.PORTCULLIS_PEP_MASK_HASH_KEY_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`PORTCULLIS_PEP_MASK_HASH_KEY_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return parseMaskHashKey(text, 'PORTCULLIS_PEP_MASK_HASH_KEY_FILE');
  }
  const value = env.PORTCULLIS_PEP_MASK_HASH_KEY;
  return value ? parseMaskHashKey(value, 'PORTCULLIS_PEP_MASK_HASH_KEY') : undefined;
}

/** Decodes a key given as hex or base64; a KeyObject keeps it out of logs and inspection. */
export function parseMaskHashKey(text: string, setting = 'the mask hash key'): KeyObject {
  const trimmed = text.trim();
  const bytes = /^(?:[0-9a-fA-F]{2})+$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (bytes.length < MIN_KEY_BYTES) throw new Error(`${setting} must hold at least ${MIN_KEY_BYTES} bytes (64 hex characters or base64)`);
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return key;
}
