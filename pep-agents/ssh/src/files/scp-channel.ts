import type { Duplex } from 'node:stream';

// scp's control lines are short ("C0644 <size> <name>"); a longer one is not scp.
const MAX_LINE_BYTES = 8192;
// Bytes read ahead of the transfer before the client is paused (SSH flow control does the rest).
const READ_AHEAD_BYTES = 1024 * 1024;

/**
 * The client's side of a legacy scp exchange over an exec channel: control bytes and lines read
 * one at a time, file contents in chunks, and writes that wait for the channel to drain.
 */
export class ScpChannel {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(private readonly stream: Duplex) {
    stream.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered > READ_AHEAD_BYTES) stream.pause();
      this.signal();
    });
    stream.on('end', () => {
      this.ended = true;
      this.signal();
    });
    stream.on('close', () => {
      this.ended = true;
      this.signal();
    });
  }

  /** One byte, or undefined when the client has gone. */
  async readByte(): Promise<number | undefined> {
    const bytes = await this.read(1);
    return bytes[0];
  }

  /** One line without its newline, or undefined when the client has gone or sent no line. */
  async readLine(): Promise<string | undefined> {
    const bytes: number[] = [];
    for (;;) {
      const byte = await this.readByte();
      if (byte === undefined || bytes.length >= MAX_LINE_BYTES) return undefined;
      if (byte === 0x0a) return Buffer.from(bytes).toString('utf8');
      bytes.push(byte);
    }
  }

  /** Between 1 and `max` bytes; empty only when the client has gone. */
  async read(max: number): Promise<Buffer> {
    while (this.buffered === 0 && !this.ended) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.buffered === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    const taken = first.length <= max ? first : first.subarray(0, max);
    if (taken === first) this.chunks.shift();
    else this.chunks[0] = first.subarray(max);
    this.buffered -= taken.length;
    if (this.buffered <= READ_AHEAD_BYTES / 2 && this.stream.isPaused()) this.stream.resume();
    return taken;
  }

  /** Sends bytes; resolves once the channel can take more. */
  async write(bytes: Buffer | string): Promise<void> {
    if (this.stream.write(bytes)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
    });
  }

  get gone(): boolean {
    return this.ended && this.buffered === 0;
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** scp's answers: 0 goes on, 1 is an error the client reports and moves past, 2 ends the transfer. */
export const SCP_OK = Buffer.from([0]);

export function scpError(message: string): string {
  return `\x01scp: ${message.replace(/[\r\n]+/g, ' ')}\n`;
}
