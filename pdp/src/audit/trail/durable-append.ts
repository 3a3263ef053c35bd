import { fdatasync, fstatSync, ftruncateSync, writeSync } from 'node:fs';

/**
 * Appends `bytes` to a file opened for appending whose stored content ends at `storedSize`, and
 * fdatasyncs it. The write is synchronous (a page-cache copy), so only the fsync waits on another
 * thread. A failed write or fsync is cut back to `storedSize`, so a retry never leaves half a
 * line inside the file (nor sizes that no longer match its lines); the error is rethrown. Should
 * the cut-back fail as well, the next append cuts first.
 */
export async function appendDurably(fd: number, bytes: Buffer, storedSize: number): Promise<void> {
  try {
    // Bytes past the stored size were never acknowledged: a failed write whose cut-back failed
    // too. This process is the folder's only writer (audit-folder-lock.ts), so they go first.
    if (fstatSync(fd).size > storedSize) ftruncateSync(fd, storedSize);
    for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    await new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
  } catch (error) {
    try {
      ftruncateSync(fd, storedSize);
    } catch {
      // The write's own error is the one to report.
    }
    throw error;
  }
}
