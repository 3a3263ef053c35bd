import { ConfigError, integer, type EnvRead } from '@portcullis/contract/config-values';

/** The audit streams a retention applies to: the event streams and the digests (with checkpoints). */
export const RETAINED_STREAMS = ['decisions', 'sessions', 'approvals', 'shadow', 'digests'] as const;
export type RetainedStream = (typeof RETAINED_STREAMS)[number];

/**
 * How long each stream is kept (NIST AU-11), in ms; null keeps it for ever. Applied to the Kafka
 * topics (retention.ms) and to rotated JSONL files, which expire once their newest record is older.
 */
export type AuditRetention = Readonly<Record<RetainedStream, number | null>>;

export interface JsonlRotation {
  /** The active file is rotated once it holds this many bytes… */
  readonly maxBytes: number;
  /** …or once its first record is this old. */
  readonly maxAgeMs: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** `PORTCULLIS_AUDIT_RETENTION` for every stream, `PORTCULLIS_AUDIT_RETENTION_<STREAM>` for one; default for ever. */
export function auditRetention(read: EnvRead): AuditRetention {
  const fallback = duration(read, 'PORTCULLIS_AUDIT_RETENTION', null);
  const entries = RETAINED_STREAMS.map((stream) => [stream, duration(read, `PORTCULLIS_AUDIT_RETENTION_${stream.toUpperCase()}`, fallback)] as const);
  return Object.fromEntries(entries) as Record<RetainedStream, number | null>;
}

export function jsonlRotation(read: EnvRead): JsonlRotation {
  return {
    maxBytes: integer(read, 'PORTCULLIS_AUDIT_ROTATE_BYTES', 256 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER),
    maxAgeMs: duration(read, 'PORTCULLIS_AUDIT_ROTATE_AFTER', UNIT_MS.d!) ?? Number.MAX_SAFE_INTEGER,
  };
}

/** `forever`, or a duration such as 90d, 12h, 1d12h, 30s. */
function duration(read: EnvRead, name: string, fallback: number | null): number | null {
  const raw = read(name);
  if (raw === undefined) return fallback;
  if (raw === 'forever') return null;
  const parts = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(raw);
  if (!parts || raw === '') throw new ConfigError(name, `must be "forever" or a duration such as 90d, 12h, 1d12h or 30s (got "${raw}")`);
  const ms = ['d', 'h', 'm', 's'].reduce((sum, unit, index) => sum + Number(parts[index + 1] ?? 0) * UNIT_MS[unit]!, 0);
  if (ms <= 0) throw new ConfigError(name, 'must be longer than zero');
  return ms;
}
