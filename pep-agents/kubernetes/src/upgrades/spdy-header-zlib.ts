// The two zlib contexts of a SPDY connection's header blocks: one per direction, living as long
// as the connection, preset with the SPDY/3 dictionary; each block ends on a sync flush, so it
// can be read (and written) whole before the next arrives. Blocks are handled one at a time, in
// the order they came, since each depends on the ones before.
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { SPDY3_HEADER_DICTIONARY } from './spdy-dictionary.ts';
import { SpdyHeaderError } from './spdy-header-block.ts';

/** Decompressed header blocks larger than this are refused (a few headers are expected, not a zip bomb). */
export const MAX_HEADER_BLOCK_BYTES = 64 * 1024;

abstract class SerialZlib<Stream extends Inflate | Deflate> {
  private queue: Promise<unknown> = Promise.resolve();
  private output: Buffer[] = [];
  private outputBytes = 0;
  private failure: Error | undefined;

  protected constructor(protected readonly stream: Stream, private readonly limit: number) {
    stream.on('data', (chunk: Buffer) => {
      this.outputBytes += chunk.length;
      if (this.outputBytes <= this.limit) this.output.push(chunk);
    });
    stream.on('error', (error: Error) => {
      this.failure = error;
    });
  }

  /** The block through this direction's context; rejects when it is malformed or too large (the context is then unusable). */
  protected process(block: Buffer): Promise<Buffer> {
    const run = this.queue.then(() => this.flushThrough(block));
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.stream.close();
  }

  private flushThrough(block: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.failure) return reject(new SpdyHeaderError(`the header compression context failed before: ${this.failure.message}`));
      const onError = (error: Error): void => reject(new SpdyHeaderError(`a header block does not decompress: ${error.message}`));
      this.stream.once('error', onError);
      this.stream.write(block);
      this.stream.flush(constants.Z_SYNC_FLUSH, () => {
        this.stream.off('error', onError);
        if (this.failure) return reject(new SpdyHeaderError(`a header block does not decompress: ${this.failure.message}`));
        const bytes = this.outputBytes;
        const out = Buffer.concat(this.output);
        this.output = [];
        this.outputBytes = 0;
        if (bytes > this.limit) {
          this.failure = new SpdyHeaderError('a header block is larger than allowed');
          return reject(this.failure);
        }
        resolve(out);
      });
    });
  }
}

/** The receiving side of one direction: compressed blocks in, header blocks out. */
export class SpdyHeaderInflater extends SerialZlib<Inflate> {
  constructor(limit = MAX_HEADER_BLOCK_BYTES) {
    super(createInflate({ dictionary: SPDY3_HEADER_DICTIONARY }), limit);
  }

  inflate(compressed: Buffer): Promise<Buffer> {
    return this.process(compressed);
  }
}

/** The sending side of one direction: header blocks in, compressed blocks out. */
export class SpdyHeaderDeflater extends SerialZlib<Deflate> {
  constructor() {
    super(createDeflate({ dictionary: SPDY3_HEADER_DICTIONARY }), Number.MAX_SAFE_INTEGER);
  }

  deflate(block: Buffer): Promise<Buffer> {
    return this.process(block);
  }
}
