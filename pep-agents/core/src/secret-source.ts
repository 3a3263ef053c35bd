import { readFileSync, statSync } from 'node:fs';

/** Where a secret comes from: a file (rotated by rewriting it) or an environment variable. */
export type SecretSource = { readonly file: string } | { readonly env: string };

/**
 * Reads a secret from a file (re-read when the file changes, so it can be rotated) or from an
 * environment variable. The value only ever goes where it is used; it is never logged.
 */
export function secretReader(source: SecretSource, env: NodeJS.ProcessEnv = process.env): () => string {
  if ('env' in source) {
    const value = env[source.env] ?? '';
    return () => value;
  }
  let cached: { value: string; stamp: string } | undefined;
  return () => {
    const stats = statSync(source.file);
    const stamp = `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
    if (cached?.stamp !== stamp) cached = { value: readFileSync(source.file, 'utf8').replace(/\r?\n$/, ''), stamp };
    return cached.value;
  };
}
