import { fdatasync, ftruncateSync, writeSync } from 'node:fs';

/**
 * Files (by descriptor) where a failed write could not be cut back either: the bytes past their
 * stored size are that write's. Only those are ever cut before the next append; bytes past the
 * stored size that this process did not try to write (another writer's) are not its to remove.
 */
const uncutTails = new Set<number>();

/**
 * Appends `bytes` to a file opened for appending whose stored content ends at `storedSize`, and
 * fdatasyncs it. The write is synchronous (a page-cache copy), so only the fsync waits on another
 * thread. A failed write or fsync is cut back to `storedSize`, so a retry never leaves half a
 * line inside the file (nor sizes that no longer match its lines); the error is rethrown. Should
 * the cut-back fail as well, the next append to that file cuts first.
 */
export async function appendDurably(fd: number, bytes: Buffer, storedSize: number): Promise<void> {
  try {
    if (uncutTails.has(fd)) {
      ftruncateSync(fd, storedSize);
      uncutTails.delete(fd);
    }
    for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    await new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
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
