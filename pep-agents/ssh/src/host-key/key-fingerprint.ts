import { createHash } from 'node:crypto';

/** The SHA256 fingerprint of a public key blob, as OpenSSH prints it (`SHA256:` + unpadded base64). */
export function sha256Fingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}
