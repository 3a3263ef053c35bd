import { UpstreamConnectError } from './upstream-connect-error.ts';

// What the client is told about a certificate the PEP refused: enough to fix the setup, with the
// details (names, issuers) left to the PEP's log.
const CERTIFICATE_PROBLEMS: Readonly<Record<string, string>> = {
  ERR_TLS_CERT_ALTNAME_INVALID: 'it is not issued for the configured host name',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed and not the configured root certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends at a CA that is not the configured root certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it is not signed by the configured root certificate',
  UNABLE_TO_GET_ISSUER_CERT: 'it is not signed by the configured root certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it is not signed by the configured root certificate',
  CERT_SIGNATURE_FAILURE: 'its signature does not verify',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet',
  CERT_REVOKED: 'it is revoked',
  INVALID_CA: 'a certificate in its chain is not a CA',
  INVALID_PURPOSE: 'it is not for TLS servers',
};

/** The UpstreamConnectError for a failed TLS handshake with the server. */
export function upstreamTlsFailure(error: Error): UpstreamConnectError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = `TLS handshake: ${code ? `${code}: ` : ''}${error.message}`;
  const problem = code ? CERTIFICATE_PROBLEMS[code] : undefined;
  if (problem) return new UpstreamConnectError(`the PEP does not trust the database's TLS certificate: ${problem}`, reason);
  return new UpstreamConnectError('the TLS handshake with the database failed', reason);
}
