import { OVERDUE_INTERVALS, type VerifiedCheckpoint } from './producer-lineage.ts';

/**
 * Where verification of a chain starts when its oldest records aged out (NIST AU-11 retention):
 * at the oldest signed checkpoint position that the records still held reach. Records from the
 * first one held up to that position are proven by the hash chain ending in the signed hash; a
 * gap, alteration or cut anywhere after the first held record is still reported. Without such a
 * checkpoint there is no anchor, and the missing head is a gap like any other.
 */
export interface ChainStart {
  readonly producer_id: string;
  readonly stream: string;
  /** The first record held: seq 0..first_seq-1 aged out. */
  readonly first_seq: number;
  /** The signed position the held records were verified against. */
  readonly anchor_seq: number;
  /** The checkpoint (start, checkpoint or stop record) that signs that position. */
  readonly checkpoint: { readonly producer_id: string; readonly seq: number; readonly event: string; readonly time: string; readonly where: string };
}

/** A chain as held: its first record's seq and link, and the hash of each seq present. */
export interface HeldChain {
  readonly producerId: string;
  readonly stream: string;
  readonly firstSeq: number;
  readonly firstPrevHash: string | null;
  readonly hashes: ReadonlyMap<number, string>;
}

export function findRetentionAnchor(chain: HeldChain, checkpoints: readonly VerifiedCheckpoint[]): ChainStart | undefined {
  if (chain.firstSeq === 0) return undefined;
  let best: { seq: number; item: VerifiedCheckpoint } | undefined;
  for (const item of checkpoints) {
    for (const position of positionsNamed(item, chain.producerId, chain.stream)) {
      const reaches = position.last_seq === chain.firstSeq - 1
        ? chain.firstPrevHash === position.last_hash
        : position.last_seq >= chain.firstSeq && chain.hashes.get(position.last_seq) === position.last_hash;
      if (!reaches) continue;
      if (!best || position.last_seq < best.seq || (position.last_seq === best.seq && older(item, best.item))) best = { seq: position.last_seq, item };
    }
  }
  if (!best) return undefined;
  const { checkpoint, where } = best.item;
  return {
    producer_id: chain.producerId,
    stream: chain.stream,
    first_seq: chain.firstSeq,
    anchor_seq: best.seq,
    checkpoint: { producer_id: checkpoint.producer_id, seq: checkpoint.seq, event: checkpoint.event, time: checkpoint.time, where },
  };
}

/** Positions a checkpoint signs for a producer's stream: its own, or an earlier run it names. */
function positionsNamed(item: VerifiedCheckpoint, producerId: string, stream: string): { last_seq: number; last_hash: string }[] {
  const { checkpoint } = item;
  const key = stream as keyof typeof checkpoint.streams;
  const found: { last_seq: number; last_hash: string }[] = [];
  if (checkpoint.producer_id === producerId && checkpoint.streams[key]) found.push(checkpoint.streams[key]);
  for (const seen of checkpoint.producers) {
    if (seen.producer_id === producerId && seen.streams[key]) found.push(seen.streams[key]);
  }
  return found;
}

/**
 * Why records 0..firstSeq-1 of a chain cannot have aged out, or undefined when they can: an
 * anchor only excuses a missing head that retention was entitled to delete. It cannot when the
 * stream is kept for ever (or its retention is not stated), nor when the last missing record is
 * younger than the retention: it was linked after the latest of this producer's checkpoints
 * (or its start) that signs a position before it, so that checkpoint's time bounds its age from
 * below. A few digest intervals are allowed for records linked while that checkpoint was signed
 * (as a producer is only overdue after OVERDUE_INTERVALS).
 * Anything else is records deleted from the head of a chain, a gap like any other.
 */
export function anchorRefusal(
  start: ChainStart, checkpoints: readonly VerifiedCheckpoint[], retentionMs: number | null | undefined, now: number,
): string | undefined {
  const head = `${start.stream} records 0..${start.first_seq - 1} of producer ${start.producer_id}`;
  if (typeof retentionMs !== 'number') {
    return `${head} are missing, yet the ${start.stream} stream is kept ${retentionMs === null ? 'for ever' : 'with no retention stated'}: they cannot have aged out`;
  }
  let latest: VerifiedCheckpoint | undefined;
  for (const item of checkpoints) {
    const { checkpoint } = item;
    if (checkpoint.producer_id !== start.producer_id) continue;
    const position = checkpoint.streams[start.stream as keyof typeof checkpoint.streams];
    // Its start, or a checkpoint from before the stream's record first-1 was attested (none of it, or less).
    const before = checkpoint.event === 'start' || position === undefined || position.last_seq < start.first_seq - 1;
    if (before && (!latest || Date.parse(checkpoint.time) > Date.parse(latest.checkpoint.time))) latest = item;
  }
  if (!latest) return undefined;
  const signedAt = Date.parse(latest.checkpoint.time);
  if (signedAt - OVERDUE_INTERVALS * latest.checkpoint.digest_interval_ms < now - retentionMs) return undefined;
  return `${head} are missing, yet seq ${start.first_seq - 1} was written after the ${latest.checkpoint.event} record of ${latest.checkpoint.time} (${latest.where}), within the stream's retention of ${retentionMs} ms: records were deleted from the head of the chain, they did not age out`;
}

function older(a: VerifiedCheckpoint, b: VerifiedCheckpoint): boolean {
  return Date.parse(a.checkpoint.time) < Date.parse(b.checkpoint.time);
}

/** A producer's chain of one stream of which nothing is held, all of it older than the stream's retention. */
export interface ChainAgedOut {
  readonly producer_id: string;
  readonly stream: string;
  /** The highest position signed for it: seq 0..through_seq aged out. */
  readonly through_seq: number;
  /** When its highest position was first signed: before now − retention. */
  readonly last_signed_at: string;
}

/**
 * Chains the checkpoints name but of which no record is held, excused only when the first
 * checkpoint to sign their highest position is older than the stream's retention: a record is
 * written before the checkpoint that attests it, so the store was entitled to delete all of it.
 * Anything younger stays a cut trail for the lineage check to name.
 */
export function chainsAgedOut(
  checkpoints: readonly VerifiedCheckpoint[], held: ReadonlySet<string>, retentionMs: Readonly<Record<string, number | null | undefined>>, now: number,
): ChainAgedOut[] {
  const newest = new Map<string, { producer: string; stream: string; seq: number; time: number }>();
  for (const item of checkpoints) {
    const time = Date.parse(item.checkpoint.time);
    const named = [
      { producer: item.checkpoint.producer_id, streams: item.checkpoint.streams },
      ...item.checkpoint.producers.map((seen) => ({ producer: seen.producer_id, streams: seen.streams })),
    ];
    for (const { producer, streams } of named) {
      for (const [stream, position] of Object.entries(streams)) {
        const key = `${producer}\u0000${stream}`;
        if (held.has(key) || !position) continue;
        // The first checkpoint to sign the highest position: its records are older than that one (later runs repeat it).
        const known = newest.get(key);
        if (known && (known.seq > position.last_seq || (known.seq === position.last_seq && known.time <= time))) continue;
        newest.set(key, { producer, stream, seq: position.last_seq, time });
      }
    }
  }
  const aged: ChainAgedOut[] = [];
  for (const entry of newest.values()) {
    const retention = retentionMs[entry.stream];
    if (typeof retention !== 'number' || entry.time >= now - retention) continue;
    aged.push({ producer_id: entry.producer, stream: entry.stream, through_seq: entry.seq, last_signed_at: new Date(entry.time).toISOString() });
  }
  return aged.sort((a, b) => a.stream.localeCompare(b.stream) || a.producer_id.localeCompare(b.producer_id));
}
