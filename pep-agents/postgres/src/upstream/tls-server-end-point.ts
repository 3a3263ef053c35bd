import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { certificateSignatureHash } from './certificate-signature-hash.ts';

/**
 * The channel binding data of type tls-server-end-point (RFC 5929), the only type PostgreSQL
 * offers: the hash of the server's certificate. Undefined when the certificate's algorithm has
 * no such hash, and then the PEP does not bind.
 */
export function tlsServerEndPoint(socket: TLSSocket): Buffer | undefined {
  const der = socket.getPeerCertificate().raw as Buffer | undefined;
  if (!der) return undefined;
  const hash = certificateSignatureHash(der);
  return hash ? createHash(hash).update(der).digest() : undefined;
}
