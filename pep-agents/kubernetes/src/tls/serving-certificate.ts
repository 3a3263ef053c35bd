import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServingCertificate {
  readonly cert: string;
  readonly key: string;
  /** Where it came from: the configured files, or the state folder. */
  readonly source: string;
}

/** The PEP's TLS certificate: the configured files, or the one kept in the state folder. */
export function loadServingCertificate(tls: { readonly certFile: string; readonly keyFile: string } | undefined, stateDir: string): ServingCertificate {
  const files = tls ?? { certFile: join(stateDir, 'tls.crt'), keyFile: join(stateDir, 'tls.key') };
  if (!existsSync(files.certFile) || !existsSync(files.keyFile)) {
    throw new Error(`no TLS certificate at ${files.certFile}: set PORTCULLIS_PEP_TLS_CERT_FILE and PORTCULLIS_PEP_TLS_KEY_FILE`);
  }
  return { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8'), source: files.certFile };
}
