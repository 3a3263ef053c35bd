import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BundleSource } from './bundle-source.ts';

export interface BundleFileSourceOptions {
  /** A bundle archive (tar.gz) as `opa build` writes it. */
  path: string;
  /** How often the file is looked at. Default 1000 ms. */
  pollIntervalMs?: number;
}

const FIRST_READ_ATTEMPTS = 100;

/**
 * A bundle file on local disk (a mounted volume, a CI artefact). Each poll is one stat; the file
 * is read and hashed only when its inode, size or mtime moved, and delivered only when its
 * content really changed, so touching or re-copying the same bundle costs nothing.
 */
export class BundleFileSource implements BundleSource {
  readonly description: string;
  private readonly path: string;
  private readonly pollIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private checksDone = 0;
  private stopped = false;
  private lastStat: string | undefined;
  private lastHash: string | undefined;
  private lastAccessError: string | undefined;

  constructor(options: BundleFileSourceOptions) {
    this.path = resolve(options.path);
    this.description = `bundle file ${this.path}`;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
  }

  get checks(): number {
    return this.checksDone;
  }

  async start(onBundle: (archive: Buffer) => Promise<void>, onError: (error: Error) => void): Promise<void> {
    if (this.polling || this.timer) throw new Error(`${this.description}: already started`);
    const first = this.firstDelivery(onBundle);
    this.polling = first.catch(() => {});
    try {
      await first;
    } catch (error) {
      // Already told through the rejection: the polls report it again only once it changes.
      if (error instanceof FileAccessError) this.lastAccessError = error.message;
      throw error;
    } finally {
      this.polling = undefined;
      this.scheduleNext(onBundle, onError);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
  }

  private scheduleNext(onBundle: (archive: Buffer) => Promise<void>, onError: (error: Error) => void): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.check(onBundle)
        .catch((error: Error) => {
          if (this.stopped) return;
          // A missing file fails every poll: report it when it starts, not once a second.
          if (error instanceof FileAccessError) {
            if (error.message === this.lastAccessError) return;
            this.lastAccessError = error.message;
          }
          onError(error);
        })
        .finally(() => {
          this.polling = undefined;
          this.checksDone += 1;
          this.scheduleNext(onBundle, onError);
        });
    }, this.pollIntervalMs);
    this.timer.unref();
  }

  private async firstDelivery(onBundle: (archive: Buffer) => Promise<void>): Promise<void> {
    // A file caught mid-write is skipped by check(): look again briefly until it settles.
    for (let attempt = 0; this.lastHash === undefined; attempt++) {
      if (this.stopped) throw new Error(`${this.description}: stopped before the first bundle`);
      if (attempt === FIRST_READ_ATTEMPTS) throw new Error(`${this.description}: the file kept changing while being read`);
      if (attempt > 0) await new Promise((done) => setTimeout(done, 50));
      await this.check(onBundle);
    }
  }

  private async check(onBundle: (archive: Buffer) => Promise<void>): Promise<void> {
    const before = await this.statSignature();
    this.lastAccessError = undefined;
    if (before === this.lastStat) return;
    const archive = await readFile(this.path).catch((error: Error) => {
      throw new FileAccessError(`${this.description}: ${error.message}`);
    });
    // A writer still busy with the file: leave it for the next poll rather than read it torn.
    if ((await this.statSignature()) !== before) return;
    this.lastStat = before;
    const hash = createHash('sha256').update(archive).digest('hex');
    if (hash === this.lastHash) return;
    // Recorded before delivery: content that failed to activate is not retried until it changes.
    this.lastHash = hash;
    if (this.stopped) return;
    await onBundle(archive);
  }

  private async statSignature(): Promise<string> {
    try {
      const info = await stat(this.path, { bigint: true });
      return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
    } catch (error) {
      throw new FileAccessError(`${this.description}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`);
    }
  }
}

/** The file could not be looked at; unlike a bad bundle, this repeats on every poll. */
class FileAccessError extends Error {
  override name = 'FileAccessError';
}
