import { randomBytes } from 'node:crypto';
import { loadOrCreatePrivateKeyFile } from './private-key-file.ts';

const KEY_BYTES = 32;

/**
 * Loads the secret that seals decision ids from `path`, creating it (32 random bytes, base64url,
 * mode 0600) on first use. Replicas that share the file (the same state folder, or
 * PORTCULLIS_DECISION_KEY_FILE) verify each other's decision ids; the file is created once however
 * many start at once, and refused when others can read it: whoever reads it can forge decision ids.
 */
export function loadOrCreateDecisionKey(path: string): Promise<Buffer> {
  return loadOrCreatePrivateKeyFile(path, {
    label: 'decision key',
    read: (text) => {
      const key = Buffer.from(text.trim(), 'base64url');
      if (key.length < KEY_BYTES) throw new Error(`decision key ${path} must hold at least ${KEY_BYTES} bytes, base64url`);
      return key;
    },
    create: async () => `${randomBytes(KEY_BYTES).toString('base64url')}\n`,
  });
}
