import type { ByteStreamMasker } from '@portcullis/pep-core';
import { SFTP_STATUS } from './sftp-codes.ts';
import { HostFileChunks } from './host-file-chunks.ts';
import { UpstreamSftpError, type UpstreamSftp } from './upstream-sftp.ts';

// How much of the masked file stays at hand behind the furthest byte the client was sent (its
// pipelined reads arrive a little out of order).
const RETAINED_BYTES = 8 * 1024 * 1024;
// How far past what it was sent a client may ask (its pipelined reads); further would make the
// PEP hold the whole file in between.
const MAX_READ_AHEAD_OF_CLIENT = 32 * 1024 * 1024;

interface MaskedChunk {
  readonly start: number;
  readonly bytes: Buffer;
}

/**
 * A file read over SFTP that policy lets a principal see only masked. SFTP reads name offsets,
 * but masking changes lengths and a value may straddle any two reads, so the file is read from
 * the host front to back through the byte-stream masker, and the client's reads are served from
 * that masked stream by offset: offsets are the masked file's, and the end of the file is where
 * the masked stream ends. A read far behind or far ahead of what was already served is refused: a
 * masked file is read in order (as sftp and scp do), and the PEP holds only a window of it.
 */
export class MaskedFileReader {
  private readonly chunks: MaskedChunk[] = [];
  /** End of the masked stream produced so far. */
  private producedEnd = 0;
  private readonly file: HostFileChunks;
  private ended = false;
  private servedEnd = 0;
  private pulling: Promise<void> = Promise.resolve();

  constructor(
    upstream: UpstreamSftp,
    handle: Buffer,
    private readonly masker: ByteStreamMasker,
  ) {
    this.file = new HostFileChunks(upstream, handle);
  }

  /** Values the masker replaced so far. */
  get masked(): number {
    return this.masker.masked;
  }

  /** Up to `length` masked bytes at `offset`; empty at the end of the masked file. */
  async read(offset: number, length: number): Promise<Buffer> {
    if (offset > this.servedEnd + MAX_READ_AHEAD_OF_CLIENT) throw new UpstreamSftpError(SFTP_STATUS.FAILURE, 'portcullis: a masked file is read in order; this part is too far ahead');
    const wanted = offset + length;
    // One pull at a time, in order: the masker sees the file exactly once, front to back.
    const pulled = this.pulling.then(() => this.fill(wanted));
    this.pulling = pulled.catch(() => undefined);
    await pulled;
    const first = this.chunks[0];
    if (first && offset < first.start) throw new UpstreamSftpError(SFTP_STATUS.FAILURE, 'portcullis: a masked file is read in order; this part was already sent');
    const served = this.slice(offset, Math.min(wanted, this.producedEnd));
    this.servedEnd = Math.max(this.servedEnd, offset + served.length);
    this.forget();
    return served;
  }

  private async fill(wanted: number): Promise<void> {
    while (!this.ended && this.producedEnd < wanted) {
      const data = await this.file.next();
      if (data.length === 0) {
        this.ended = true;
        this.append(this.masker.end());
      } else this.append(this.masker.push(data));
    }
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.chunks.push({ start: this.producedEnd, bytes });
    this.producedEnd += bytes.length;
  }

  private slice(from: number, to: number): Buffer {
    if (to <= from) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    for (const chunk of this.chunks) {
      const chunkEnd = chunk.start + chunk.bytes.length;
      if (chunkEnd <= from || chunk.start >= to) continue;
      parts.push(chunk.bytes.subarray(Math.max(from, chunk.start) - chunk.start, Math.min(to, chunkEnd) - chunk.start));
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private forget(): void {
    const keepFrom = this.servedEnd - RETAINED_BYTES;
    while (this.chunks.length > 1 && this.chunks[0]!.start + this.chunks[0]!.bytes.length <= keepFrom) this.chunks.shift();
  }
}
