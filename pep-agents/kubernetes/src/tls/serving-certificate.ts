// The PEP's TLS serving certificate: the configured files, or one created once in the state
// folder and kept, so kubeconfigs that pinned it keep trusting the same server across restarts.
// Never replaced silently: files that cannot be read or do not pair stop the start.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSelfSignedCertificate } from './self-signed-certificate.ts';

export interface ServingCertificate {
  readonly cert: string;
  readonly key: string;
  /** Where it came from: the configured file, or the state folder's. */
  readonly source: string;
  /** SHA-256 fingerprint (AA:BB:…), for a person to compare. */
  readonly fingerprint: string;
  /** Whether this start created it. */
  readonly created: boolean;
}

export const CERTIFICATE_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';
const VALID_DAYS = 5 * 365;

export function loadServingCertificate(tls: { readonly certFile: string; readonly keyFile: string } | undefined, stateDir: string, names: readonly string[]): ServingCertificate {
  let created = false;
  let files = tls;
  if (files === undefined) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    files = { certFile: join(stateDir, CERTIFICATE_FILE), keyFile: join(stateDir, KEY_FILE) };
    if (!existsSync(files.keyFile) && !existsSync(files.certFile)) {
      const made = createSelfSignedCertificate('portcullis-pep-kubernetes', names, VALID_DAYS);
      // wx: two PEPs starting on one state folder never overwrite each other's key.
      writeFileSync(files.keyFile, made.key, { mode: 0o600, flag: 'wx' });
      writeFileSync(files.certFile, made.cert, { mode: 0o644, flag: 'wx' });
      created = true;
    }
    chmodSync(files.keyFile, 0o600);
  }
  const cert = readFileSync(files.certFile, 'utf8');
  const key = readFileSync(files.keyFile, 'utf8');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
    const publicOfKey = createPublicKey(createPrivateKey(key)).export({ type: 'spki', format: 'der' });
    if (!publicOfKey.equals(x509.publicKey.export({ type: 'spki', format: 'der' }))) throw new Error('the key is not the certificate’s');
  } catch (error) {
    throw new Error(`the TLS certificate ${files.certFile} cannot be used: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { cert, key, source: files.certFile, fingerprint: x509.fingerprint256, created };
}
