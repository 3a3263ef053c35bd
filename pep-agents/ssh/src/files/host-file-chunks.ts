import type { UpstreamSftp } from './upstream-sftp.ts';

// One read asked of the host, and how many are in flight ahead of the reader (so reading a file
// front to back is not one round trip per chunk).
export const HOST_READ_BYTES = 64 * 1024;
const READS_AHEAD = 8;

/**
 * A host file read front to back over SFTP, in order, with several reads in flight: what the
 * masked reader and legacy scp's sending side read files with.
 */
export class HostFileChunks {
  private position = 0;
  private ahead: Array<{ readonly position: number; readonly data: Promise<Buffer> }> = [];
  private ended = false;

  constructor(
    private readonly upstream: UpstreamSftp,
    private readonly handle: Buffer,
  ) {}

  /** The next bytes of the file; empty once it ended. */
  async next(): Promise<Buffer> {
    if (this.ended) return Buffer.alloc(0);
    this.readAhead();
    const data = await this.ahead.shift()!.data;
    if (data.length === 0) {
      this.ended = true;
      this.ahead = [];
      return data;
    }
    this.position += data.length;
    // A short read before the end: the reads after it asked for the wrong offsets.
    if (data.length < HOST_READ_BYTES) this.ahead = [];
    return data;
  }

  private readAhead(): void {
    const last = this.ahead.at(-1);
    let position = last ? last.position + HOST_READ_BYTES : this.position;
    while (this.ahead.length < READS_AHEAD) {
      const data = this.upstream.read(this.handle, position, HOST_READ_BYTES);
      // Awaited in order later; one dropped unread must not be an unhandled rejection.
      data.catch(() => undefined);
      this.ahead.push({ position, data });
      position += HOST_READ_BYTES;
    }
  }
}
