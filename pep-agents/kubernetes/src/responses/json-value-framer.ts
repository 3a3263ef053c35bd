/**
 * Cuts a byte stream of concatenated JSON objects or arrays (a watch stream's events, or the one
 * document of a get or list) into whole values, wherever the chunk boundaries fall. It tracks
 * only nesting and strings, so a value is found whole before anything parses it; whitespace
 * between values is dropped. Anything else between values, or a value larger than the limit,
 * is an error: a stream the PEP cannot frame is never relayed as it came.
 */
export class JsonValueFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly maxValueBytes: number) {}

  /** The values this chunk completes, each as its exact bytes. */
  push(chunk: Buffer): Buffer[] {
    const values: Buffer[] = [];
    let start = this.depth === 0 ? -1 : 0;
    // Where the next backslash is (rare): looked up again only once passed, so a chunk is scanned for it once.
    let backslashAt = -2;
    for (let index = 0; index < chunk.length; index += 1) {
      const byte = chunk[index]!;
      if (this.depth === 0) {
        if (isWhitespace(byte)) continue;
        if (byte !== OPEN_OBJECT && byte !== OPEN_ARRAY) throw new JsonFramingError('the stream holds something other than JSON objects');
        start = index;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        // Most of a document is string bytes: jump to the next quote or backslash.
        if (backslashAt !== -1 && backslashAt < index) backslashAt = chunk.indexOf(BACKSLASH, index);
        const quoteAt = chunk.indexOf(QUOTE, index);
        const end = backslashAt !== -1 && (quoteAt === -1 || backslashAt < quoteAt) ? backslashAt : quoteAt;
        if (end === -1) {
          index = chunk.length;
          break;
        }
        index = end;
        if (chunk[end] === BACKSLASH) this.escaped = true;
        else this.inString = false;
        continue;
      }
      if (byte === QUOTE) this.inString = true;
      else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) this.depth += 1;
      else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
        this.depth -= 1;
        if (this.depth === 0) {
          values.push(this.take(chunk.subarray(start, index + 1)));
          start = -1;
        }
      }
    }
    if (start !== -1) this.keep(chunk.subarray(start));
    return values;
  }

  /** Call once the stream ended: a value cut off by the end is an error. */
  end(): void {
    if (this.depth !== 0) throw new JsonFramingError('the stream ended inside a JSON value');
  }

  private keep(part: Buffer): void {
    this.pendingBytes += part.length;
    if (this.pendingBytes > this.maxValueBytes) throw new JsonFramingError(`a JSON value exceeds ${this.maxValueBytes} bytes`);
    // Copied: the chunk's memory may be reused by the stream that handed it over.
    this.pending.push(Buffer.from(part));
  }

  private take(last: Buffer): Buffer {
    if (this.pendingBytes + last.length > this.maxValueBytes) throw new JsonFramingError(`a JSON value exceeds ${this.maxValueBytes} bytes`);
    const value = this.pending.length === 0 ? last : Buffer.concat([...this.pending, last]);
    this.pending = [];
    this.pendingBytes = 0;
    return value;
  }
}

/** Why a stream could not be framed; its message never quotes the stream. */
export class JsonFramingError extends Error {
  override readonly name = 'JsonFramingError';
}

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}
