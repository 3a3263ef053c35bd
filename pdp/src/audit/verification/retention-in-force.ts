import { RETAINED_STREAMS } from '../../config/audit-retention-config.ts';
import type { VerifiedCheckpoint } from './producer-lineage.ts';

/** A stream the store keeps for less time than the PDP signed that it must be kept. */
export interface RetentionShortened {
  readonly stream: string;
  readonly storedMs: number;
  readonly signedMs: number | null;
}

export interface RetentionInForce {
  /** Per stream, what verification may excuse as aged out by (ms; null: kept for ever; undefined: not stated). */
  readonly retention: Readonly<Record<string, number | null | undefined>>;
  /** The newest verified checkpoint that signs a retention, when any does. */
  readonly signedBy?: { readonly producer_id: string; readonly seq: number; readonly time: string };
  readonly shortened: readonly RetentionShortened[];
}

/**
 * The retention verification goes by. The store's own statement (a topic's retention.ms, a JSONL
 * folder's retention.json) is not signed: an insider who deletes a chain's head could shorten it
 * too, and pass the deletion off as records that aged out. So the newest verified checkpoint's
 * signed retention sets a floor: the store may keep a stream longer, never shorter (that is named
 * as shortened), and where the store states nothing the signed retention stands.
 */
export function retentionInForce(stored: Readonly<Record<string, number | null | undefined>> | undefined, checkpoints: readonly VerifiedCheckpoint[]): RetentionInForce {
  let newest: VerifiedCheckpoint | undefined;
  for (const item of checkpoints) {
    if (item.checkpoint.retention_ms === undefined) continue;
    if (!newest || Date.parse(item.checkpoint.time) > Date.parse(newest.checkpoint.time)) newest = item;
  }
  const signed = newest?.checkpoint.retention_ms;
  const retention: Record<string, number | null | undefined> = { ...stored };
  const shortened: RetentionShortened[] = [];
  if (signed) {
    for (const stream of RETAINED_STREAMS) {
      if (!(stream in signed)) continue;
      const floor = signed[stream] ?? null;
      const kept = stored?.[stream];
      if (typeof kept === 'number' && (floor === null || kept < floor)) shortened.push({ stream, storedMs: kept, signedMs: floor });
      retention[stream] = kept === null || floor === null ? null : Math.max(kept ?? floor, floor);
    }
  }
  return {
    retention,
    ...(newest ? { signedBy: { producer_id: newest.checkpoint.producer_id, seq: newest.checkpoint.seq, time: newest.checkpoint.time } } : {}),
    shortened,
  };
}
