/**
 * COPY … (FORMAT binary) as a stream: the 11-byte signature, flags and header extension, then
 * tuples (int16 field count, each field an int32 length, -1 for NULL, and its bytes), then an
 * int16 -1 trailer. Tuples may straddle CopyData messages, so an incomplete one waits for the
 * next; everything complete goes out, rewritten, in order.
 */
import { encodeDataRow, type Cell } from './data-row-cells.ts';

export const BINARY_COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

export function startsBinaryCopy(chunk: Buffer): boolean {
  return chunk.length >= BINARY_COPY_SIGNATURE.length && chunk.subarray(0, BINARY_COPY_SIGNATURE.length).equals(BINARY_COPY_SIGNATURE);
}

export type TupleRewriter = (cells: Cell[]) => Cell[];

export class BinaryCopyStream {
  private pending: Buffer = Buffer.alloc(0);
  private headerDone = false;
  private finished = false;
  /** Set when the stream is not what binary COPY looks like: nothing more is let through. */
  private broken = false;

  constructor(private readonly rewrite: TupleRewriter) {}

  push(chunk: Buffer): Buffer {
    if (this.broken || this.finished) return Buffer.alloc(0);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    let offset = 0;
    if (!this.headerDone) {
      const headerLength = this.headerLength();
      if (headerLength === undefined) return Buffer.alloc(0);
      if (headerLength < 0) return this.break();
      out.push(this.pending.subarray(0, headerLength));
      offset = headerLength;
      this.headerDone = true;
    }
    while (offset + 2 <= this.pending.length) {
      const count = this.pending.readInt16BE(offset);
      if (count === -1) {
        out.push(this.pending.subarray(offset, offset + 2));
        offset += 2;
        this.finished = true;
        break;
      }
      if (count < 0) return this.break();
      const tuple = this.readTuple(offset + 2, count);
      if (tuple === null) return this.break();
      if (tuple === undefined) break;
      // A tuple is laid out as a DataRow body is: the same encoder writes it.
      out.push(encodeDataRow(this.rewrite(tuple.cells)));
      offset = tuple.end;
    }
    this.pending = this.pending.subarray(offset);
    return Buffer.concat(out);
  }

  /** undefined: not all here yet; negative: not a binary COPY header. */
  private headerLength(): number | undefined {
    const fixed = BINARY_COPY_SIGNATURE.length + 8;
    if (this.pending.length < BINARY_COPY_SIGNATURE.length) {
      return BINARY_COPY_SIGNATURE.subarray(0, this.pending.length).equals(this.pending) ? undefined : -1;
    }
    if (!startsBinaryCopy(this.pending)) return -1;
    if (this.pending.length < fixed) return undefined;
    const extension = this.pending.readInt32BE(BINARY_COPY_SIGNATURE.length + 4);
    if (extension < 0) return -1;
    return this.pending.length < fixed + extension ? undefined : fixed + extension;
  }

  /** undefined: not all here yet; null: malformed. */
  private readTuple(start: number, count: number): { cells: Cell[]; end: number } | undefined | null {
    const cells: Cell[] = [];
    let offset = start;
    for (let index = 0; index < count; index += 1) {
      if (offset + 4 > this.pending.length) return undefined;
      const length = this.pending.readInt32BE(offset);
      offset += 4;
      if (length === -1) {
        cells.push(null);
        continue;
      }
      if (length < 0) return null;
      if (offset + length > this.pending.length) return undefined;
      cells.push(this.pending.subarray(offset, offset + length));
      offset += length;
    }
    return { cells, end: offset };
  }

  private break(): Buffer {
    this.broken = true;
    this.pending = Buffer.alloc(0);
    return Buffer.alloc(0);
  }
}
