import { loadOrCreateSigningKey, SIGNING_KEY_ALGORITHM, type SigningKey } from '../keys/signing-key-store.ts';

export { PRIVATE_KEY_FILE, PUBLIC_JWKS_FILE } from '../keys/signing-key-store.ts';

export const DEV_KEY_ALGORITHM = SIGNING_KEY_ALGORITHM;

export type DevSigningKey = SigningKey;

/** The dev issuer's ES256 key pair in `directory`, created on first use (see `loadOrCreateSigningKey`). */
export function loadOrCreateDevKey(directory: string): Promise<DevSigningKey> {
  return loadOrCreateSigningKey(directory, 'dev issuer key');
}
