import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const CHUNK_BYTES = 64 * 1024;

/**
 * The complete lines of a file, last first, read 64 KiB at a time from the end: start-up reads
 * the last records of a trail, never the whole of it. Bytes after the last newline (a torn
 * write) are no line; empty lines are skipped. Stop early by leaving the loop.
 */
export function* linesFromEnd(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    let position = fstatSync(fd).size;
    // Bytes from `position` on that are not yet yielded; once `complete`, they end with a newline.
    let held = Buffer.alloc(0);
    let complete = false;
    for (;;) {
      if (!complete) {
        const newline = held.lastIndexOf(0x0a);
        if (newline !== -1) {
          held = held.subarray(0, newline + 1);
          complete = true;
        }
      }
      while (complete && held.length > 0) {
        const previous = held.length >= 2 ? held.lastIndexOf(0x0a, held.length - 2) : -1;
        if (previous === -1 && position > 0) break; // this line starts in bytes not read yet
        const line = held.subarray(previous + 1, held.length - 1).toString('utf8');
        held = held.subarray(0, previous + 1);
        if (line !== '') yield line;
      }
      if (position === 0) return;
      const start = Math.max(0, position - CHUNK_BYTES);
      const chunk = Buffer.alloc(position - start);
      readSync(fd, chunk, 0, chunk.length, start);
      held = Buffer.concat([chunk, held]);
      position = start;
    }
  } finally {
    closeSync(fd);
  }
}
