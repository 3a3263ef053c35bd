import { WebSocket } from 'ws';

export type SocketMessage = Record<string, unknown> & { type: string };

const INBOX_LIMIT = 10_000;

/**
 * A bare client of the PDP's approvals WebSocket (protocol v1) for measuring it: every message
 * is kept in an inbox until a `next` takes it, so nothing that arrives early is missed.
 */
export class BenchSocket {
  readonly #socket: WebSocket;
  readonly #inbox: SocketMessage[] = [];
  readonly #waiters = new Set<{ match: (message: SocketMessage) => boolean; resolve: (message: SocketMessage) => void }>();
  #listener: ((message: SocketMessage) => void) | undefined;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data) => this.#receive(JSON.parse(data.toString()) as SocketMessage));
  }

  /** Connects with a bearer header and resolves once the PDP has welcomed the principal. */
  static async open(baseUrl: string, token: string): Promise<BenchSocket> {
    const url = new URL('/v1/ws', baseUrl);
    url.protocol = 'ws:';
    const socket = new WebSocket(url, 'portcullis.v1', { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    const client = new BenchSocket(socket);
    const welcome = client.next((message) => message.type === 'welcome');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('close', (code, reason) => reject(new Error(`the PDP closed the socket: ${code} ${reason.toString()}`)));
    });
    await welcome;
    return client;
  }

  send(message: Record<string, unknown>): void {
    this.#socket.send(JSON.stringify(message));
  }

  /** The first message (already received or still to come) that matches; it leaves the inbox. */
  next(match: (message: SocketMessage) => boolean, timeoutMs = 30_000): Promise<SocketMessage> {
    const index = this.#inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.#inbox.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (message: SocketMessage) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Sends every message to `listener` instead of the inbox (for counting thousands of them). */
  listen(listener: ((message: SocketMessage) => void) | undefined): void {
    this.#listener = listener;
  }

  clearInbox(): void {
    this.#inbox.length = 0;
  }

  close(): void {
    this.#socket.close(1000);
  }

  #receive(message: SocketMessage): void {
    if (this.#listener) return this.#listener(message);
    for (const waiter of this.#waiters) {
      if (waiter.match(message)) {
        this.#waiters.delete(waiter);
        waiter.resolve(message);
        return;
      }
    }
    this.#inbox.push(message);
    if (this.#inbox.length > INBOX_LIMIT) this.#inbox.shift();
  }
}
