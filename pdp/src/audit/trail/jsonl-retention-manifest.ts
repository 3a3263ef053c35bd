import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RETAINED_STREAMS, type AuditRetention, type JsonlRotation } from '../../config/audit-retention-config.ts';

/**
 * `retention.json` beside the embedded sink's files: the retention and rotation the sink applies,
 * written whenever a sink opens the folder. A copied or archived folder (read with `--dir`,
 * without the PDP's configuration) still states how long each stream is kept (AU-11), as a Kafka
 * topic states its retention.ms. It is a statement of configuration, like the topic's: the
 * records themselves are what verification proves.
 */
export const RETENTION_MANIFEST = 'retention.json';

export interface RetentionManifest {
  /** Per stream, ms; null: kept for ever. */
  readonly retention_ms: Readonly<Record<string, number | null>>;
  readonly rotation: { readonly max_bytes: number; readonly max_age_ms: number };
  readonly written_at: string;
}

/** Writes the manifest whole (a temporary file renamed over it, then fsync'd), so a reader never sees half of one. */
export function writeRetentionManifest(directory: string, retention: AuditRetention, rotation: JsonlRotation, now = new Date()): void {
  const manifest: RetentionManifest = {
    retention_ms: Object.fromEntries(RETAINED_STREAMS.map((stream) => [stream, retention[stream]])),
    rotation: { max_bytes: rotation.maxBytes, max_age_ms: rotation.maxAgeMs },
    written_at: now.toISOString(),
  };
  const target = join(directory, RETENTION_MANIFEST);
  const temporary = `${target}.${process.pid}.tmp`;
  const file = openSync(temporary, 'w', 0o600);
  try {
    writeSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
    fsyncSync(file);
  } finally {
    closeSync(file);
  }
  renameSync(temporary, target);
  const folder = openSync(directory, 'r');
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
}

/** The manifest of a folder; undefined when there is none. Throws when one is there but unreadable: a wrong statement is not silence. */
export function readRetentionManifest(directory: string): RetentionManifest | undefined {
  const path = join(directory, RETENTION_MANIFEST);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new RetentionManifestError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const manifest = parsed as Partial<RetentionManifest> | null;
  const retention = manifest?.retention_ms;
  if (typeof retention !== 'object' || retention === null || Array.isArray(retention)) throw new RetentionManifestError(`${path} has no retention_ms object`);
  for (const [stream, ms] of Object.entries(retention)) {
    if (ms !== null && !(typeof ms === 'number' && Number.isSafeInteger(ms) && ms > 0)) throw new RetentionManifestError(`${path}: retention_ms.${stream} must be a positive number of ms or null`);
  }
  if (typeof manifest?.written_at !== 'string') throw new RetentionManifestError(`${path} has no written_at`);
  return manifest as RetentionManifest;
}

export class RetentionManifestError extends Error {
  override name = 'RetentionManifestError';
}
