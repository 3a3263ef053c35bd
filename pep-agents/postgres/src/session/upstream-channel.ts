import type { Socket } from 'node:net';
import { once } from 'node:events';

/** The server's side of a session: client messages (or their stand-ins) out, with backpressure. */
export class UpstreamChannel {
  private full = false;
  private closed = false;

  constructor(private readonly socket: Socket) {}

  send(message: Buffer): void {
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return;
    if (!this.socket.write(message)) this.full = true;
  }

  /** Resolves when the server has taken what was written; undefined when nothing waits (no promise per message). */
  drained(): Promise<void> | undefined {
    if (!this.full || this.socket.destroyed) return undefined;
    return once(this.socket, 'drain').then(
      () => {
        this.full = false;
      },
      () => {
        this.full = false;
      },
    );
  }

  /** The session is ending: nothing more is sent, whatever a handler still in flight decides. */
  close(): void {
    this.closed = true;
  }

  get congested(): boolean {
    return this.full;
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }
}
