import { fdatasync, fdatasyncSync, ftruncateSync, writeSync } from 'node:fs';

/**
 * Where the fdatasync of a commit runs. `pool`: on libuv's thread pool, the calling thread free
 * meanwhile (to map the next records). `inline`: on the calling thread, which it blocks for the
 * fsync (~0.2 ms at p50 on these disks) but which spares two hand-offs between threads, each a
 * wake-up; the better choice when nothing else is waiting for that thread.
 */
export interface FsyncPlacement {
  /** Where the fsync of a commit of `records` records runs. */
  choose(records: number): 'inline' | 'pool';
  /** How long an inline fsync took (Infinity: it failed). */
  inlineTook(ms: number): void;
}

/** Every fsync on the pool: the caller never blocks. */
export const FSYNC_ON_POOL: FsyncPlacement = { choose: () => 'pool', inlineTook: () => undefined };

/**
 * Inline for a commit of at most `maxRecords` records while nothing else waits for the thread
 * (`othersWaiting`); on the pool otherwise. A small commit with nothing queued is a moderate rate,
 * where the hand-offs cost more than the thread's wait; under load commits grow and records
 * queue, and the pool lets mapping the next ones overlap the fsync. An inline fsync slower than
 * `slowMs` (or failing) sends every fsync to the pool for `backOffMs`: a stalled disk must not
 * stall the thread too, whose health reports and queue bound keep admission honest. (Here an
 * fsync takes 0.2–0.6 ms at p99 and passes 2 ms about once in 500, often because the thread was
 * descheduled: a lower bound would keep the fsyncs on the pool nearly all the time.)
 */
export class FsyncInlineWhenIdle implements FsyncPlacement {
  private poolUntil = 0;

  constructor(
    private readonly maxRecords: number,
    private readonly othersWaiting: () => boolean,
    private readonly slowMs = 20,
    private readonly backOffMs = 5000,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  choose(records: number): 'inline' | 'pool' {
    return records <= this.maxRecords && this.now() >= this.poolUntil && !this.othersWaiting() ? 'inline' : 'pool';
  }

  inlineTook(ms: number): void {
    if (ms > this.slowMs) this.poolUntil = this.now() + this.backOffMs;
  }
}

/**
 * Files (by descriptor) where a failed write could not be cut back either: the bytes past their
 * stored size are that write's. Only those are ever cut before the next append; bytes past the
 * stored size that this process did not try to write (another writer's) are not its to remove.
 */
const uncutTails = new Set<number>();

/**
 * Appends `bytes` to a file opened for appending whose stored content ends at `storedSize`, and
 * fdatasyncs it. The write is synchronous (a page-cache copy); the fsync runs where
 * `fsync.placement` puts a commit of `fsync.records` records (another thread unless told). A
 * failed write or fsync is cut back to `storedSize`, so a retry never leaves half a line inside
 * the file (nor sizes that no longer match its lines); the error is rethrown. Should the cut-back
 * fail as well, the next append to that file cuts first.
 */
export async function appendDurably(fd: number, bytes: Buffer, storedSize: number, fsync: { readonly placement: FsyncPlacement; readonly records: number } = { placement: FSYNC_ON_POOL, records: 1 }): Promise<void> {
  try {
    if (uncutTails.has(fd)) {
      ftruncateSync(fd, storedSize);
      uncutTails.delete(fd);
    }
    for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    if (fsync.placement.choose(fsync.records) === 'inline') syncInline(fd, fsync.placement);
    else await new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
  } catch (error) {
    try {
      ftruncateSync(fd, storedSize);
      uncutTails.delete(fd);
    } catch {
      // The write's own error is the one to report; the next append cuts first.
      uncutTails.add(fd);
    }
    throw error;
  }
}

function syncInline(fd: number, placement: FsyncPlacement): void {
  const started = performance.now();
  try {
    fdatasyncSync(fd);
  } catch (error) {
    placement.inlineTook(Number.POSITIVE_INFINITY);
    throw error;
  }
  placement.inlineTook(performance.now() - started);
}
