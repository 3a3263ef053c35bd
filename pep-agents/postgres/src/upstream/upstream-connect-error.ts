import { PgError, SQLSTATE } from '../errors/pg-error.ts';

/**
 * Why the upstream session could not be opened. `message` is safe for the client; `reason` (the
 * server's own error text, the network or TLS error) is for the PEP's log.
 */
export class UpstreamConnectError extends PgError {
  constructor(message: string, readonly reason: string) {
    super(SQLSTATE.connectionFailure, message, { severity: 'FATAL' });
  }
}
