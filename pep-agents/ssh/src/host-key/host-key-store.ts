// The PEP's own host key: created once in the state folder and kept, so clients that pinned its
// fingerprint keep trusting the same server across restarts. Never replaced silently: a key file
// that cannot be read or parsed stops the start.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';

const { utils } = ssh2;
import { sha256Fingerprint } from './key-fingerprint.ts';
import { generateOpenSshEd25519KeyPair } from './openssh-ed25519-key.ts';

export interface PepHostKey {
  /** OpenSSH private key text. */
  readonly privateKey: string;
  readonly type: string;
  /** SHA256:… as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /** `<type> <base64>`: what a client's known_hosts line holds after the host name. */
  readonly publicKey: string;
  /** Whether this start created it. */
  readonly created: boolean;
}

export const HOST_KEY_FILE = 'ssh_host_ed25519_key';

export function loadOrCreateHostKey(stateDir: string): PepHostKey {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, HOST_KEY_FILE);
  let created = false;
  if (!existsSync(path)) {
    const pair = generateOpenSshEd25519KeyPair();
    // wx: two PEPs starting on one state folder never overwrite each other's key.
    writeFileSync(path, pair.private, { mode: 0o600, flag: 'wx' });
    writeFileSync(`${path}.pub`, `${pair.public}\n`, { mode: 0o644 });
    created = true;
  }
  chmodSync(path, 0o600);
  const privateKey = readFileSync(path, 'utf8');
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw new Error(`the host key ${path} cannot be read: ${parsed.message}`);
  const key = Array.isArray(parsed) ? parsed[0]! : parsed;
  const blob = key.getPublicSSH();
  return { privateKey, type: key.type, fingerprint: sha256Fingerprint(blob), publicKey: `${key.type} ${blob.toString('base64')}`, created };
}
