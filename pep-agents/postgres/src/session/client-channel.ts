import type { Duplex } from 'node:stream';
import type { PgError } from '../errors/pg-error.ts';
import { encodeErrorResponse, encodeNotice } from '../protocol/backend-messages.ts';

/** The client's side of a session: whole messages in, written in order, with backpressure exposed. */
export class ClientChannel {
  constructor(private readonly socket: Duplex) {}

  /** False when the socket's buffer is full: the caller stops reading upstream until `drain`. */
  write(message: Buffer): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return true;
    return this.socket.write(message);
  }

  notice(message: string, detail?: string): void {
    this.write(encodeNotice(message, detail));
  }

  /** Sends the error; a FATAL one ends the connection after it. */
  error(error: PgError): void {
    this.write(encodeErrorResponse(error));
    if (error.fatal) this.socket.end();
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  onDrain(listener: () => void): void {
    this.socket.once('drain', listener);
  }

  get open(): boolean {
    return !this.socket.destroyed && !this.socket.writableEnded;
  }
}
