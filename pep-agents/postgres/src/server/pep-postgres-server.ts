import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PgError, SQLSTATE } from '../errors/pg-error.ts';
import { encodeErrorResponse } from '../protocol/backend-messages.ts';
import { ProxySession, type SessionDeps } from '../session/proxy-session.ts';

/** Accepts client connections and runs one ProxySession per connection. */
export class PostgresPepServer {
  private readonly server: Server;
  private readonly sessions = new Set<ProxySession>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly deps: SessionDeps,
    private readonly maxConnections: number,
  ) {
    this.server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.accept(socket));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Stops accepting, tells every client the PEP is going away, and waits for the sessions to end. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) session.shutdown();
    await Promise.all([...this.running]);
    await closed;
  }

  private accept(socket: Socket): void {
    // A socket error is always followed by 'close', which the session handles; never let it throw.
    socket.on('error', () => undefined);
    if (this.sessions.size >= this.maxConnections) {
      socket.end(encodeErrorResponse(new PgError(SQLSTATE.tooManyConnections, 'sorry, too many clients already', { severity: 'FATAL' })));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const session = new ProxySession(socket, this.deps);
    this.sessions.add(session);
    const run = session.run().finally(() => {
      this.sessions.delete(session);
      this.running.delete(run);
    });
    this.running.add(run);
  }
}
