import { fdatasync, ftruncateSync, writeSync } from 'node:fs';

/**
 * Appends `bytes` to a file opened for appending whose stored content ends at `storedSize`, and
 * fdatasyncs it. The write is synchronous (a page-cache copy), so only the fsync waits on another
 * thread. A failed write or fsync is cut back to `storedSize`, so a retry never leaves half a
 * line inside the file (nor sizes that no longer match its lines); the error is rethrown.
 */
export async function appendDurably(fd: number, bytes: Buffer, storedSize: number): Promise<void> {
  try {
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
