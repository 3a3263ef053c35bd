import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { changedFileReader } from './changed-file-reader.ts';
import type { UpstreamSslMode, UpstreamTlsSettings } from './upstream-tls-settings.ts';

/**
 * The TLS options every connection to the real server uses: the PEP's sessions, its cancel
 * requests and its catalog pool alike, so none of them is weaker than the others.
 */
export class UpstreamTls {
  private readonly readCa: (() => Buffer) | undefined;
  private readonly readCert: (() => Buffer) | undefined;
  private readonly readKey: (() => Buffer) | undefined;

  constructor(readonly settings: UpstreamTlsSettings) {
    const { rootCert, clientCert } = settings;
    this.readCa = rootCert && rootCert !== 'system' ? changedFileReader(rootCert.file) : undefined;
    this.readCert = clientCert ? changedFileReader(clientCert.certFile) : undefined;
    this.readKey = clientCert ? changedFileReader(clientCert.keyFile) : undefined;
  }

  get mode(): UpstreamSslMode {
    return this.settings.mode;
  }

  get enabled(): boolean {
    return this.settings.mode !== 'disable';
  }

  /**
   * Options for `tls.connect` to `host`, one connection's worth: the files are read now (and
   * only re-read when they changed). Throws when a file cannot be read.
   */
  connectOptions(host: string): ConnectionOptions {
    const mode = this.settings.mode;
    return {
      // Node checks the certificate against `servername`, else `host`: an IP address is
      // checked against the certificate's IP entries.
      host,
      // SNI carries names only (RFC 6066).
      ...(isIP(host) === 0 ? { servername: host } : {}),
      // PostgreSQL 17 checks it when sent; older servers ignore it.
      ALPNProtocols: ['postgresql'],
      // require: encryption only. The identity check still runs, but only marks the socket.
      rejectUnauthorized: mode === 'verify-ca' || mode === 'verify-full',
      ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
      ...(this.readCa ? { ca: this.readCa() } : {}),
      ...(this.readCert && this.readKey ? { cert: this.readCert(), key: this.readKey() } : {}),
    };
  }
}
