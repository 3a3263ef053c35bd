// A new Ed25519 key pair in OpenSSH's own file formats. The key comes from node:crypto; the
// encoding is written here because the SSH library's generator drops a public key's leading zero
// byte (about one key in 256), and such a file can then never be read back.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

export interface OpenSshKeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` text, unencrypted. */
  readonly private: string;
  /** `ssh-ed25519 <base64>`, as a .pub file or authorized_keys line holds it. */
  readonly public: string;
}

const KEY_TYPE = 'ssh-ed25519';
const CIPHER_BLOCK = 8; // "none" pads the private section to 8 bytes

export function generateOpenSshEd25519KeyPair(comment = ''): OpenSshKeyPair {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const publicKey = Buffer.from(jwk.x!, 'base64url');
  if (seed.length !== 32 || publicKey.length !== 32) throw new Error('node:crypto returned an Ed25519 key of unexpected size');
  const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(publicKey)]);
  const check = randomBytes(4);
  const section = Buffer.concat([check, check, sshString(KEY_TYPE), sshString(publicKey), sshString(Buffer.concat([seed, publicKey])), sshString(comment)]);
  const padding = Buffer.from(Array.from({ length: (CIPHER_BLOCK - (section.length % CIPHER_BLOCK)) % CIPHER_BLOCK }, (_, index) => index + 1));
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(Buffer.concat([section, padding])),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g)!;
  return {
    private: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    public: `${KEY_TYPE} ${publicBlob.toString('base64')}${comment ? ` ${comment}` : ''}`,
  };
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([uint32(bytes.length), bytes]);
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}
