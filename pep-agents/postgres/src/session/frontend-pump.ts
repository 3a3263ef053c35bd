import type { Duplex } from 'node:stream';
import type { FramedMessage, MessageReader } from '../protocol/message-reader.ts';

/** Unprocessed client bytes the PEP holds before it stops reading (pipelined messages wait here). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Reads client messages and hands them to `handle` strictly one after another, waiting while a
 * decision is pending. The socket keeps being read (so a disconnect is noticed during a long
 * approval wait) until too much is buffered.
 */
export class FrontendPump {
  private running = false;
  private paused = false;
  private stopped = false;

  constructor(
    private readonly socket: Duplex,
    private readonly reader: MessageReader,
    private readonly handle: (message: FramedMessage) => void | Promise<void>,
    /** A wait before the next message (the server's side is full), or undefined to go on at once. */
    private readonly beforeNext: () => Promise<void> | undefined,
    private readonly fail: (error: unknown) => void,
  ) {}

  start(): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      if (this.reader.buffered > MAX_BUFFERED_BYTES && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
      void this.run();
    });
    this.socket.resume();
    void this.run();
  }

  stop(): void {
    this.stopped = true;
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      for (;;) {
        if (this.stopped) return;
        const message = this.reader.nextMessage();
        if (!message) break;
        const pending = this.handle(message);
        if (pending) await pending;
        const full = this.beforeNext();
        if (full) await full;
      }
      if (this.paused && !this.stopped) {
        this.paused = false;
        this.socket.resume();
      }
    } catch (error) {
      this.stopped = true;
      this.fail(error);
    } finally {
      this.running = false;
    }
  }
}
