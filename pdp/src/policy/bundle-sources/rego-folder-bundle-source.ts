import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { BundleSource } from './bundle-source.ts';

export interface RegoFolderBundleSourceOptions {
  /** Folder of `.rego` and data (`data.json`, YAML) files, built as `opa build` loads them. */
  folder: string;
  /** The opa binary. */
  opaPath: string;
  /** Entrypoints compiled into the WASM module, e.g. `portcullis/decision`. */
  entrypoints: string[];
  /** Where the build writes its temporary output (created if missing). */
  workDir: string;
  /** Quiet time after the last change before a rebuild. Default 150 ms. */
  debounceMs?: number;
  /** Kill a build that runs longer than this. Default 120000 ms. */
  buildTimeoutMs?: number;
  log?: (message: string) => void;
}

const WATCHED_EXTENSIONS = ['.rego', '.json', '.yaml', '.yml'];
// Hidden entries (.git, .vscode/settings.json, editor swap files, Kubernetes ..data links) are
// not policy; test files are for `opa test`, not for the served bundle; a package's manifests
// and dependencies are not data.
const IGNORE_PATTERNS = ['.*', '*_test.rego', 'node_modules', 'package.json', 'package-lock.json', 'tsconfig.json'];
const ROOT_RETRY_MS = 1_000;

/**
 * A folder of Rego compiled to a WASM bundle by the opa binary, rebuilt whenever a policy or
 * data file changes. Rebuilds are debounced and never overlap; changes made during a build cause
 * exactly one more. A failed build is reported through `onError` and the last good bundle keeps
 * serving. When the first build fails, `start` rejects but the folder stays watched until `stop`,
 * so a fix is picked up if the caller keeps running.
 *
 * Every directory gets its own watcher rather than one `recursive: true` watcher: on Linux,
 * Node 20's recursive mode watches files by inode and goes deaf to a file once an editor has
 * replaced it (write-to-temp + rename). Directory watches see those renames.
 */
export class RegoFolderBundleSource implements BundleSource {
  readonly description: string;
  private readonly folder: string;
  private readonly debounceMs: number;
  private readonly buildTimeoutMs: number;
  private readonly log: (message: string) => void;
  private readonly watchers = new Map<string, { watcher: FSWatcher; identity: string }>();
  private onBundle: ((archive: Buffer) => Promise<void>) | undefined;
  private onError: ((error: Error) => void) | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private rootRetryTimer: NodeJS.Timeout | undefined;
  private building: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private resyncWanted = false;
  private pending = false;
  private checksDone = 0;
  private stopped = false;
  private abort = new AbortController();
  /** Fingerprint of the sources last built, so events that changed nothing cost no build. */
  private lastBuiltFingerprint: string | undefined;
  private lastDelivered: { fingerprint: string; archive: Buffer } | undefined;
  private outputSeq = 0;

  constructor(private readonly options: RegoFolderBundleSourceOptions) {
    if (options.entrypoints.length === 0) throw new TypeError('RegoFolderBundleSource: entrypoints must not be empty');
    this.folder = resolve(options.folder);
    this.description = `rego folder ${this.folder}`;
    this.debounceMs = options.debounceMs ?? 150;
    this.buildTimeoutMs = options.buildTimeoutMs ?? 120_000;
    this.log = options.log ?? (() => {});
  }

  get checks(): number {
    return this.checksDone;
  }

  async start(onBundle: (archive: Buffer) => Promise<void>, onError: (error: Error) => void): Promise<void> {
    if (this.onBundle) throw new Error(`${this.description}: already started`);
    this.onBundle = onBundle;
    this.onError = onError;
    await mkdir(this.options.workDir, { recursive: true });
    // Watch before the first build so edits made while it runs are not lost.
    this.requestWatcherSync();
    await this.syncing;
    const first = this.buildOnce();
    this.building = first.catch(() => {});
    try {
      await first;
    } finally {
      this.building = undefined;
      if (this.pending) this.drain();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.rootRetryTimer);
    this.closeWatchers();
    this.abort.abort();
    await this.syncing;
    await this.building;
    this.closeWatchers(); // any that a sync in flight added
  }

  private scheduleBuild(): void {
    if (this.stopped) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => this.drain(), this.debounceMs);
    this.debounceTimer.unref();
  }

  /** Runs builds one at a time until no change is pending. */
  private drain(): void {
    if (this.building) {
      this.pending = true;
      return;
    }
    this.building = (async () => {
      while (!this.stopped) {
        this.pending = false;
        try {
          await this.buildOnce();
        } catch (error) {
          if (!this.stopped) this.onError?.(error as Error);
        }
        this.checksDone += 1;
        if (!this.pending) break;
      }
    })().finally(() => {
      this.building = undefined;
    });
  }

  private async buildOnce(): Promise<void> {
    const fingerprint = await this.fingerprintSources();
    if (fingerprint === this.lastBuiltFingerprint) return;
    // Recorded before building: sources that failed to build are not retried until they change.
    this.lastBuiltFingerprint = fingerprint;
    if (this.lastDelivered?.fingerprint === fingerprint) {
      // Sources went back to what serves now (a broken edit undone): say so, without a rebuild.
      await this.onBundle!(this.lastDelivered.archive);
      return;
    }
    const revision = `sha256:${fingerprint.slice(0, 16)}`;
    const startedAt = Date.now();
    const archive = await this.runOpaBuild(revision);
    if (this.stopped) return;
    this.log(`${this.description}: built revision ${revision} in ${Date.now() - startedAt} ms`);
    await this.onBundle!(archive);
    this.lastDelivered = { fingerprint, archive };
  }

  private async runOpaBuild(revision: string): Promise<Buffer> {
    const output = join(resolve(this.options.workDir), `rego-folder-${process.pid}-${++this.outputSeq}.tar.gz`);
    const args = ['build', '-t', 'wasm', '-O=1', '-r', revision, '-o', output];
    for (const entrypoint of this.options.entrypoints) args.push('-e', entrypoint);
    for (const pattern of IGNORE_PATTERNS) args.push('--ignore', pattern);
    // Building "." from inside the folder keeps absolute host paths out of the bundle.
    args.push('.');
    try {
      await new Promise<void>((resolvePromise, reject) => {
        execFile(
          this.options.opaPath,
          args,
          { cwd: this.folder, timeout: this.buildTimeoutMs, maxBuffer: 4 * 1024 * 1024, signal: this.abort.signal },
          (error, stdout, stderr) => {
            if (!error) return resolvePromise();
            const detail = `${stderr}`.trim() || `${stdout}`.trim() || error.message;
            reject(new Error(`opa build failed for ${this.folder}: ${detail}`));
          },
        );
      });
      return await readFile(output);
    } finally {
      await rm(output, { force: true });
    }
  }

  /** A digest of every file opa will load, plus the build parameters. */
  private async fingerprintSources(): Promise<string> {
    const hash = createHash('sha256');
    hash.update(JSON.stringify({ entrypoints: this.options.entrypoints, opa: this.options.opaPath }));
    const files = (await this.walk(this.folder)).files.sort();
    for (const file of files) {
      const bytes = await readFile(file);
      hash.update(`\0${relative(this.folder, file)}\0${bytes.length}\0`);
      hash.update(bytes);
    }
    return hash.digest('hex');
  }

  private async walk(dir: string, found = { dirs: [] as string[], files: [] as string[] }): Promise<{ dirs: string[]; files: string[] }> {
    found.dirs.push(dir);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (isIgnored(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await this.walk(path, found);
      else if (isWatchedFile(entry.name)) found.files.push(path);
    }
    return found;
  }

  /** Serialises watcher syncs, so two syncs never both add a watcher for the same directory. */
  private requestWatcherSync(): void {
    if (this.syncing) {
      this.resyncWanted = true;
      return;
    }
    this.syncing = (async () => {
      do {
        this.resyncWanted = false;
        await this.syncWatchers();
      } while (this.resyncWanted && !this.stopped);
    })().finally(() => {
      this.syncing = undefined;
    });
  }

  /**
   * Watches every directory of the tree: adds watchers for new ones, drops vanished ones, and
   * renews those whose directory was replaced by another at the same path (a new inode).
   */
  private async syncWatchers(): Promise<void> {
    if (this.stopped) return;
    let dirs: { path: string; identity: string }[];
    try {
      const paths = (await this.walk(this.folder)).dirs;
      dirs = await Promise.all(paths.map(async (path) => ({ path, identity: await directoryIdentity(path) })));
    } catch {
      // The folder is gone or changing under us (replaced, unmounted): look again shortly. A
      // build attempted meanwhile reports a missing folder through onError.
      this.closeWatchers();
      this.retryRootLater();
      return;
    }
    if (this.stopped) return;
    const wanted = new Map(dirs.map((dir) => [dir.path, dir.identity]));
    for (const [path, watched] of this.watchers) {
      if (wanted.get(path) !== watched.identity) {
        watched.watcher.close();
        this.watchers.delete(path);
      }
    }
    for (const { path, identity } of dirs) {
      if (this.watchers.has(path)) continue;
      try {
        const watcher = watch(path, (event, name) => this.onFsEvent(event, name));
        watcher.on('error', () => {
          watcher.close();
          if (this.watchers.get(path)?.watcher === watcher) this.watchers.delete(path);
          this.requestWatcherSync();
        });
        watcher.unref(); // the server, not a background watcher, decides when the process lives
        this.watchers.set(path, { watcher, identity });
      } catch {
        // Vanished between listing and watching: the rename event that follows resyncs.
      }
    }
    if (!this.watchers.has(this.folder)) this.retryRootLater();
  }

  private closeWatchers(): void {
    for (const { watcher } of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private retryRootLater(): void {
    if (this.stopped || this.rootRetryTimer) return;
    this.rootRetryTimer = setTimeout(() => {
      this.rootRetryTimer = undefined;
      this.requestWatcherSync();
      void this.syncing?.then(() => {
        if (this.watchers.has(this.folder)) this.scheduleBuild();
      });
    }, ROOT_RETRY_MS);
    this.rootRetryTimer.unref();
  }

  private onFsEvent(event: string, name: string | Buffer | null): void {
    if (this.stopped) return;
    const fileName = name === null ? null : name.toString();
    // A rename can be a directory appearing or vanishing: bring the watchers up to date.
    if (event === 'rename') this.requestWatcherSync();
    if (fileName === null || event === 'rename' || (!isIgnored(fileName) && isWatchedFile(fileName))) this.scheduleBuild();
  }
}

async function directoryIdentity(path: string): Promise<string> {
  const info = await stat(path);
  return `${info.dev}:${info.ino}`;
}

function isWatchedFile(name: string): boolean {
  return WATCHED_EXTENSIONS.some((extension) => name.endsWith(extension)) && !isIgnored(name);
}

function isIgnored(name: string): boolean {
  return name.startsWith('.') || name.endsWith('_test.rego');
}
