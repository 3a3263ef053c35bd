import { readFile, stat } from 'node:fs/promises';
import { createLocalJWKSet } from 'jose';
import type { CryptoKey, FlattenedJWSInput, JWSHeaderParameters } from 'jose';
import { KeysUnavailableError, toKeySourceError, type KeySource } from './key-source.ts';

export interface LocalJwksFileOptions {
  /** Look at the file's metadata at most this often. Default 1000 ms. */
  checkIntervalMs?: number;
  /** Told when a changed file could not be loaded and the previous key set stays in use. */
  onReloadError?: (error: Error) => void;
}

interface LoadedSet {
  /** mtime, size and inode together, so an atomic rename or a same-millisecond rewrite still counts as a change. */
  fingerprint: string;
  resolve: ReturnType<typeof createLocalJWKSet>;
}

/**
 * A JWKS kept in a local file, re-read when the file changes so keys can be rotated without a
 * restart. A file that is changed into something unreadable keeps the last good set (a
 * half-written file must not lock everyone out); a file that disappears makes the keys
 * unavailable (deleting it is how an operator withdraws trust).
 */
export class LocalJwksFileKeySource implements KeySource {
  readonly description: string;
  readonly #path: string;
  readonly #checkIntervalMs: number;
  readonly #onReloadError: ((error: Error) => void) | undefined;
  #loaded: LoadedSet | undefined;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #pendingCheck: Promise<void> | undefined;

  constructor(path: string, options: LocalJwksFileOptions = {}) {
    this.#path = path;
    this.description = path;
    this.#checkIntervalMs = options.checkIntervalMs ?? 1_000;
    this.#onReloadError = options.onReloadError;
  }

  async resolveKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    try {
      const loaded = await this.#current();
      return await loaded.resolve(header, token);
    } catch (error) {
      throw toKeySourceError(error, this.description);
    }
  }

  async #current(): Promise<LoadedSet> {
    if (!this.#loaded || Date.now() - this.#checkedAt >= this.#checkIntervalMs) {
      // Concurrent verifications share one stat/read instead of each hitting the disk.
      this.#pendingCheck ??= this.#check().finally(() => {
        this.#pendingCheck = undefined;
      });
      await this.#pendingCheck;
    }
    if (!this.#loaded) throw new KeysUnavailableError(`no key set loaded from ${this.#path}`);
    return this.#loaded;
  }

  async #check(): Promise<void> {
    let fingerprint: string;
    try {
      const info = await stat(this.#path);
      fingerprint = `${info.mtimeMs}:${info.size}:${info.ino}`;
    } catch (error) {
      this.#loaded = undefined;
      this.#checkedAt = Date.now();
      throw new KeysUnavailableError(`cannot read key set file ${this.#path}`, { cause: error });
    }
    this.#checkedAt = Date.now();
    if (this.#loaded?.fingerprint === fingerprint) return;
    try {
      const json: unknown = JSON.parse(await readFile(this.#path, 'utf8'));
      this.#loaded = { fingerprint, resolve: createLocalJWKSet(json as Parameters<typeof createLocalJWKSet>[0]) };
    } catch (error) {
      const failure = new KeysUnavailableError(`key set file ${this.#path} is not a valid JWKS`, { cause: error });
      if (!this.#loaded) throw failure;
      this.#onReloadError?.(failure);
    }
  }
}
