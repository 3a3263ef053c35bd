import { readFileSync, statSync } from 'node:fs';

/**
 * Reads a file when first asked and again only once it has changed (mtime, size or inode), so a
 * rotated certificate or key takes effect on the next connection without a restart.
 */
export function changedFileReader(file: string): () => Buffer {
  let cached: { contents: Buffer; stamp: string } | undefined;
  return () => {
    const stats = statSync(file);
    const stamp = `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
    if (cached?.stamp !== stamp) cached = { contents: readFileSync(file), stamp };
    return cached.contents;
  };
}
