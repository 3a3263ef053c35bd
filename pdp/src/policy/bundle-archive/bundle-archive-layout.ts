import { createHash } from 'node:crypto';

/**
 * Where and how archived bundles are kept, shared by the PDP that writes them and the replay
 * that reads them. A bundle is kept as its exact archive bytes (a signed bundle keeps its
 * signature file), addressed by its content digest and filed under the revision records name.
 */

/** `sha256:<hex>` of the archive bytes: the bundle's content address. */
export function bundleDigest(archive: Uint8Array): string {
  return `sha256:${createHash('sha256').update(archive).digest('hex')}`;
}

/** The folder under the state folder that holds the archive. */
export const BUNDLE_ARCHIVE_FOLDER = 'bundles';

/** `<revision, URI-encoded>@<hex>.tar.gz`: a revision may hold any character, a file name may not. */
export function bundleFileName(revision: string, digest: string): string {
  return `${encodeURIComponent(revision)}@${digest.slice('sha256:'.length)}.tar.gz`;
}

/** The revision and digest a file name states, or undefined for a file that is not an archived bundle. */
export function parseBundleFileName(name: string): { revision: string; digest: string } | undefined {
  const match = /^(.+)@([0-9a-f]{64})\.tar\.gz$/.exec(name);
  if (!match) return undefined;
  try {
    return { revision: decodeURIComponent(match[1]!), digest: `sha256:${match[2]!}` };
  } catch {
    return undefined;
  }
}

/** The compacted topic keyed by revision: `<prefix>.bundles.v1`. */
export function bundleTopic(prefix: string): string {
  return `${prefix}.bundles.v1`;
}

/** The message header that carries the archive's content address. */
export const BUNDLE_DIGEST_HEADER = 'portcullis-bundle-digest';
