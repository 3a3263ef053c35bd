import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseBundleFileName } from '../policy/bundle-archive/bundle-archive-layout.ts';
import { BundleArchiveError, checkedBundle, type ArchivedBundle, type BundleArchiveReader } from './bundle-archive-reader.ts';

/** Reads `<state>/bundles/` (or any folder laid out the same way, e.g. a copy an auditor was handed). */
export class FolderBundleArchiveReader implements BundleArchiveReader {
  private readonly cache = new Map<string, ArchivedBundle | undefined>();

  constructor(private readonly directory: string) {}

  get description(): string {
    return `bundle archive ${this.directory}`;
  }

  async bundle(revision: string, digest?: string): Promise<ArchivedBundle | undefined> {
    const key = `${revision}\u0000${digest ?? ''}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const names = await readdir(this.directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw new BundleArchiveError(`${this.description}: ${error.message}`);
    });
    const filed = names.map((name) => ({ name, parsed: parseBundleFileName(name) })).filter((entry) => entry.parsed?.revision === revision && (digest === undefined || entry.parsed.digest === digest));
    if (filed.length > 1) throw new BundleArchiveError(`${this.description}: ${filed.length} different bundles are filed as revision ${revision} (${filed.map((entry) => entry.name).join(', ')})`);
    const entry = filed[0];
    const found = entry ? checkedBundle(revision, entry.parsed!.digest, await readFile(join(this.directory, entry.name)), join(this.directory, entry.name)) : undefined;
    this.cache.set(key, found);
    return found;
  }

  async close(): Promise<void> {}
}
