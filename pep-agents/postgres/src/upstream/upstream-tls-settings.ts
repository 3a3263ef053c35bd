/**
 * How the PEP protects its link to the real server, in libpq's terms. `prefer` and `allow` are
 * left out on purpose: they fall back to plaintext without telling anyone.
 */
export const UPSTREAM_SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;

export type UpstreamSslMode = (typeof UPSTREAM_SSL_MODES)[number];

export interface UpstreamTlsSettings {
  /**
   * disable: plain TCP. require: TLS, the certificate is not checked (encryption against
   * listeners only). verify-ca: the chain must lead to `rootCert`. verify-full: that, and the
   * certificate must name the host.
   */
  readonly mode: UpstreamSslMode;
  /** The CAs to trust (a PEM file, re-read when it changes), or Node's bundled public roots; verify modes only. */
  readonly rootCert: { readonly file: string } | 'system' | undefined;
  /** A client certificate for servers that ask for one (pg_hba `cert` or `clientcert=`). */
  readonly clientCert: { readonly certFile: string; readonly keyFile: string } | undefined;
}

export const PLAINTEXT_UPSTREAM: UpstreamTlsSettings = Object.freeze({ mode: 'disable', rootCert: undefined, clientCert: undefined });
