import type { Duplex } from 'node:stream';
import type { FramedMessage, MessageReader } from './message-reader.ts';

/** The peer closed the connection (or it broke) before the awaited bytes arrived. */
export class ConnectionClosedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ConnectionClosedError';
  }
}

/** No complete packet arrived in time. */
export class ReadTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReadTimeoutError';
  }
}

/**
 * Awaitable reads over a socket, for the phases that go question-and-answer (start-up,
 * authentication). Once the phase is over, `release` hands the reader, with any bytes already
 * received, to the code that relays messages.
 */
export class MessageStream {
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.reader.push(chunk);
    this.wake?.();
  };
  private readonly onEnd = (): void => this.fail(new ConnectionClosedError('the peer closed the connection'));
  private readonly onError = (error: Error): void => this.fail(new ConnectionClosedError(`connection error (${(error as NodeJS.ErrnoException).code ?? error.name})`));

  constructor(
    private readonly socket: Duplex,
    readonly reader: MessageReader,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
    socket.resume();
  }

  nextStartupPacket(maxBytes: number, timeoutMs: number): Promise<Buffer> {
    return this.read(() => this.reader.nextStartupPacket(maxBytes), timeoutMs);
  }

  nextMessage(maxBytes: number, timeoutMs: number): Promise<FramedMessage> {
    return this.read(() => this.reader.nextMessage(maxBytes), timeoutMs);
  }

  /** Stops listening; the socket is paused and every byte received so far stays in `reader`. */
  release(): MessageReader {
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    return this.reader;
  }

  private async read<T>(extract: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = extract();
      if (value !== undefined) return value;
      if (this.failure) throw this.failure;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new ReadTimeoutError('timed out waiting for the peer');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, remaining);
        function finish(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = finish;
      });
      this.wake = undefined;
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }
}
