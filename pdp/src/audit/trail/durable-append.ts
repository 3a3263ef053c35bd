import { fdatasync, fdatasyncSync, ftruncateSync, writeSync } from 'node:fs';

/**
 * Where the fdatasync of an append of `records` records runs. `pool`: on libuv's thread pool, the
 * calling thread free meanwhile (to map the next records). `inline`: on the calling thread,
 * which it blocks for the fsync (~0.1–0.3 ms on these disks) but which spares two hand-offs
 * between threads, each a wake-up; the better choice when nothing else is waiting for that thread.
 */
export type FsyncPlacement = (records: number) => 'inline' | 'pool';

/** Every fsync on the pool: the caller never blocks. */
export const FSYNC_ON_POOL: FsyncPlacement = () => 'pool';

/**
 * Inline for a commit of at most `maxRecords` records while nothing else waits for the thread
 * (`othersWaiting`); on the pool otherwise. A small commit with nothing queued is a moderate rate,
 * where the hand-offs cost more than the thread's wait; under load commits grow and records
 * queue, and the pool lets mapping the next ones overlap the fsync.
 */
export function fsyncInlineWhenIdle(maxRecords: number, othersWaiting: () => boolean): FsyncPlacement {
  return (records) => (records <= maxRecords && !othersWaiting() ? 'inline' : 'pool');
}

/**
 * Files (by descriptor) where a failed write could not be cut back either: the bytes past their
 * stored size are that write's. Only those are ever cut before the next append; bytes past the
 * stored size that this process did not try to write (another writer's) are not its to remove.
 */
const uncutTails = new Set<number>();

/**
 * Appends `bytes` to a file opened for appending whose stored content ends at `storedSize`, and
 * fdatasyncs it. The write is synchronous (a page-cache copy); the fsync runs on another thread
 * unless `inline`. A failed write or fsync is cut back to `storedSize`, so a retry never leaves half a
 * line inside the file (nor sizes that no longer match its lines); the error is rethrown. Should
 * the cut-back fail as well, the next append to that file cuts first.
 */
export async function appendDurably(fd: number, bytes: Buffer, storedSize: number, inline = false): Promise<void> {
  try {
    if (uncutTails.has(fd)) {
      ftruncateSync(fd, storedSize);
      uncutTails.delete(fd);
    }
    for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    if (inline) fdatasyncSync(fd);
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
