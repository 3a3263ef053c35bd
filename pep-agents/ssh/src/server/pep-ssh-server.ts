import type { AddressInfo } from 'node:net';
import { ConnectionServer } from '@portcullis/pep-core';
import { SshClientSession, type SshClientSessionDeps } from './ssh-client-session.ts';

/** The SSH PEP's listener: one session per client within a connection limit; close ends every session. */
export class PepSshServer {
  private readonly server: ConnectionServer<SshClientSession>;

  constructor(deps: SshClientSessionDeps, maxConnections: number) {
    this.server = new ConnectionServer({
      session: (socket) => new SshClientSession(socket, deps),
      maxConnections,
      // Like sshd over MaxStartups: the connection is closed before the handshake.
      refuseOverLimit: (socket) => socket.end(),
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return this.server.listen(host, port);
  }

  get sessionCount(): number {
    return this.server.sessionCount;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
