import { parsePolicyBundle, type PolicyBundle } from '../policy/policy-bundle.ts';
import { bundleDigest } from '../policy/bundle-archive/bundle-archive-layout.ts';

/** One archived bundle, checked: its bytes hash to its address and it states the revision it is filed under. */
export interface ArchivedBundle {
  readonly revision: string;
  readonly digest: string;
  /** The exact archive bytes the PDP activated. */
  readonly archive: Buffer;
  readonly bundle: PolicyBundle;
}

/** Reads the bundles the PDP archived (policy/bundle-archive/), by the revision records name. */
export interface BundleArchiveReader {
  readonly description: string;
  /**
   * The bundle of a revision; undefined when none is archived. Given `digest` (what the
   * revision's activation record attests), only a bundle filed with that content address is
   * taken, whatever else is filed under the revision. Throws BundleArchiveError when what is
   * taken is altered (bytes that do not hash to their address, another revision inside) or,
   * without a digest, ambiguous (two different bundles filed under one revision).
   */
  bundle(revision: string, digest?: string): Promise<ArchivedBundle | undefined>;
  close(): Promise<void>;
}

export class BundleArchiveError extends Error {
  override name = 'BundleArchiveError';
}

/** Checks stored bytes against their address and revision, and parses them. */
export function checkedBundle(revision: string, digest: string, archive: Buffer, where: string): ArchivedBundle {
  const actual = bundleDigest(archive);
  if (actual !== digest) throw new BundleArchiveError(`${where}: the archive's bytes hash to ${actual}, not to its address ${digest}: it was altered`);
  let bundle: PolicyBundle;
  try {
    bundle = parsePolicyBundle(archive);
  } catch (error) {
    throw new BundleArchiveError(`${where}: ${(error as Error).message}`);
  }
  if (bundle.revision !== revision) throw new BundleArchiveError(`${where}: filed as revision ${revision} but the bundle is revision ${bundle.revision}`);
  return { revision, digest, archive, bundle };
}
