import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { listenOn } from './listen-on.ts';

/** One client connection's life, as a PEP runs it. */
export interface ServedSession {
  /** Runs the session to its end; never rejects. */
  run(): Promise<void>;
  /** The PEP shuts down: tell the client in its protocol's words, then end. */
  shutdown(): void;
}

export interface ConnectionServerOptions<S extends ServedSession> {
  /** A session for a client that just connected (its socket is paused until the session reads). */
  readonly session: (socket: Socket) => S;
  /** Sessions at most; a client beyond them is told so in its protocol's words and let go. */
  readonly maxConnections: number;
  /** Writes the protocol's "too many connections" answer and ends the socket. */
  readonly refuseOverLimit: (socket: Socket) => void;
}

/**
 * Accepts TCP clients for a PEP and runs one session per connection, within a connection limit;
 * closing stops accepting, tells every session to end, and resolves once every one has.
 */
export class ConnectionServer<S extends ServedSession> {
  private readonly server: Server;
  private readonly sessions = new Set<S>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: ConnectionServerOptions<S>) {
    this.server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.accept(socket));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.server, host, port);
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
    if (this.sessions.size >= this.options.maxConnections) {
      this.options.refuseOverLimit(socket);
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const session = this.options.session(socket);
    this.sessions.add(session);
    const run = session.run().finally(() => {
      this.sessions.delete(session);
      this.running.delete(run);
    });
    this.running.add(run);
  }
}
