import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Bytes the embedded JSONL sink holds for one audit stream in `directory`: the active
 * `<stream>.jsonl` and its rotated files (`<stream>.<15 digits>.jsonl`). A bench reads it before
 * and after a run; the difference over the run's decisions or statements is bytes on disk per
 * decision or per recorded statement. Checkpoint files and other streams are not counted.
 */
export function jsonlStreamBytes(directory: string, stream: string): number {
  const own = new RegExp(`^${stream.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.\\d{15})?\\.jsonl$`);
  let bytes = 0;
  for (const name of readdirSync(directory)) {
    if (!own.test(name)) continue;
    try {
      bytes += statSync(join(directory, name)).size;
    } catch {
      // rotated away between listing and reading: counted in the file it went to
    }
  }
  return bytes;
}
