import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleDigest, bundleFileName, parseBundleFileName } from './bundle-archive-layout.ts';

/**
 * Keeps every bundle the PDP activates in `<state>/bundles/`, exact bytes, named by revision and
 * content digest. Written durably (fsync, then rename) before the bundle answers, so no recorded
 * decision can name a revision whose bundle is not kept.
 */
export class FolderBundleArchive {
  constructor(readonly directory: string) {}

  /** Keeps the archive; a bundle already kept (same revision, same bytes) costs one stat. */
  async keep(revision: string, archive: Buffer): Promise<{ readonly digest: string; readonly file: string }> {
    const digest = bundleDigest(archive);
    const file = join(this.directory, bundleFileName(revision, digest));
    if (existsSync(file)) return { digest, file };
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const partial = join(this.directory, `.${randomUUID()}.partial`);
    try {
      const handle = await open(partial, 'wx', 0o600);
      try {
        await handle.writeFile(archive);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(partial, file);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    const folder = await open(this.directory, 'r');
    await folder.sync().finally(() => folder.close());
    return { digest, file };
  }

  /** Every kept bundle, for publishing again what a broker that was away never received. */
  async *kept(): AsyncIterable<{ readonly revision: string; readonly digest: string; readonly archive: Buffer }> {
    const names = await readdir(this.directory).catch(() => []);
    for (const name of names) {
      const parsed = parseBundleFileName(name);
      if (parsed) yield { ...parsed, archive: await readFile(join(this.directory, name)) };
    }
  }
}
