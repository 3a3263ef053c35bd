import type { AddressInfo } from 'node:net';
import { ConnectionServer } from '@portcullis/pep-core';
import { PgError, SQLSTATE } from '../errors/pg-error.ts';
import { encodeErrorResponse } from '../protocol/backend-messages.ts';
import { ProxySession, type SessionDeps } from '../session/proxy-session.ts';

/** Accepts client connections and runs one ProxySession per connection (the SDK's connection server). */
export class PostgresPepServer {
  private readonly server: ConnectionServer<ProxySession>;

  constructor(deps: SessionDeps, maxConnections: number) {
    this.server = new ConnectionServer({
      session: (socket) => new ProxySession(socket, deps),
      maxConnections,
      // As PostgreSQL answers a client beyond max_connections.
      refuseOverLimit: (socket) => socket.end(encodeErrorResponse(new PgError(SQLSTATE.tooManyConnections, 'sorry, too many clients already', { severity: 'FATAL' }))),
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return this.server.listen(host, port);
  }

  get sessionCount(): number {
    return this.server.sessionCount;
  }

  /** Stops accepting, tells every client the PEP is going away, and waits for the sessions to end. */
  close(): Promise<void> {
    return this.server.close();
  }
}
