import { protocolViolation } from '../errors/pg-error.ts';

/** One protocol message: its type byte, the whole message as received, and its body. */
export interface FramedMessage {
  readonly type: number;
  /** Type byte, length and body: what is forwarded when the message passes unchanged. */
  readonly raw: Buffer;
  /** The bytes after the length field. */
  readonly body: Buffer;
}

const HEADER = 5;

/**
 * The first bytes of a connection are no start-up packet (a Terminate sent before one, or noise).
 * PostgreSQL logs this and closes without a word to the client; so does the PEP.
 */
export class UnreadableStartupPacketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableStartupPacketError';
  }
}

/**
 * Cuts a byte stream into protocol messages. Bytes are kept as the chunks that arrived and copied
 * once per message, so a large message does not cost a copy per chunk. Lengths are checked before
 * any byte of the body is awaited: an oversized or impossible length is refused at once.
 */
export class MessageReader {
  private chunks: Buffer[] = [];
  private total = 0;

  constructor(private readonly maxMessageBytes: number) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** Bytes received and not yet returned as a message. */
  get buffered(): number {
    return this.total;
  }

  /** The next typed message (type byte, int32 length, body), or undefined until it is complete. */
  nextMessage(maxBytes = this.maxMessageBytes): FramedMessage | undefined {
    if (this.total < HEADER) return undefined;
    const header = this.peek(HEADER);
    const length = header.readInt32BE(1);
    if (length < 4) throw protocolViolation(`invalid message length ${length}`);
    if (length + 1 > maxBytes) throw protocolViolation(`message of ${length + 1} bytes exceeds the limit of ${maxBytes}`);
    if (this.total < length + 1) return undefined;
    const raw = this.take(length + 1);
    return { type: raw[0]!, raw, body: raw.subarray(HEADER) };
  }

  /** The next untyped packet of the start-up phase (int32 length including itself, then the body). */
  nextStartupPacket(maxBytes: number): Buffer | undefined {
    if (this.total < 4) return undefined;
    const length = this.peek(4).readInt32BE(0);
    if (length < 8 || length > maxBytes) throw new UnreadableStartupPacketError(`invalid start-up packet length ${length}`);
    if (this.total < length) return undefined;
    return this.take(length);
  }

  /** Hands over every buffered byte and empties the reader. */
  drain(): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.total);
    this.chunks = [];
    this.total = 0;
    return all;
  }

  private peek(count: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= count) return first.subarray(0, count);
    const head = Buffer.alloc(count);
    let copied = 0;
    for (const chunk of this.chunks) {
      if (copied >= count) break;
      copied += chunk.copy(head, copied, 0, Math.min(chunk.length, count - copied));
    }
    return head;
  }

  private take(count: number): Buffer {
    const first = this.chunks[0]!;
    let result: Buffer;
    if (first.length > count) {
      result = first.subarray(0, count);
      this.chunks[0] = first.subarray(count);
    } else if (first.length === count) {
      result = first;
      this.chunks.shift();
    } else {
      result = Buffer.allocUnsafe(count);
      let copied = 0;
      while (copied < count) {
        const chunk = this.chunks[0]!;
        const wanted = count - copied;
        if (chunk.length <= wanted) {
          chunk.copy(result, copied);
          copied += chunk.length;
          this.chunks.shift();
        } else {
          chunk.copy(result, copied, 0, wanted);
          this.chunks[0] = chunk.subarray(wanted);
          copied += wanted;
        }
      }
    }
    this.total -= count;
    return result;
  }
}
