import { checkpointLinkHash, type AuditDurability, type CheckpointRecord } from '../trail/producer-checkpoint.ts';
import type { VerificationProblem } from './verification-problem.ts';

/** A producer whose latest signed checkpoint is older than this many of its digest intervals has gone quiet. */
export const OVERDUE_INTERVALS = 3;

/** One producer's chain of one stream as the verifier found it. */
export interface LineageChain {
  readonly producerId: string;
  readonly stream: string;
  /** seq → hash of every record present. */
  readonly hashes: ReadonlyMap<number, string>;
  /** Highest seq present, -1 when none. */
  readonly lastSeq: number;
  /** Whether any verified digest covers records of this chain. */
  readonly digested: boolean;
}

export interface VerifiedCheckpoint {
  readonly checkpoint: CheckpointRecord;
  readonly where: string;
  /** The key that signed it. */
  readonly kid: string;
}

/**
 * - `stopped`: wrote its stop record; everything it wrote is attested.
 * - `running`: no stop yet, but a checkpoint within OVERDUE_INTERVALS of its interval.
 * - `crashed-restarted`: no stop record, and a later run on its state names it as ended without one.
 * - `tail-cut`: no stop record, no recent checkpoint, and no later run names it: its tail is gone.
 * - `stop-missing`: a later run names it as stopped cleanly, but its stop record is not here.
 * - `unannounced`: records with no signed start record.
 * - `missing`: named by another run's checkpoint, but nothing of it is here.
 */
export type ProducerState = 'stopped' | 'running' | 'crashed-restarted' | 'tail-cut' | 'stop-missing' | 'unannounced' | 'missing';

export interface ProducerSummary {
  readonly producer_id: string;
  readonly state: ProducerState;
  readonly started_at: string | null;
  readonly stopped_at: string | null;
  readonly last_checkpoint_at: string | null;
  readonly digest_interval_ms: number | null;
  readonly durability: AuditDurability | null;
  /** kids of the keys its start, checkpoints and stop were signed with. */
  readonly signing_keys: readonly string[];
}

interface Naming {
  readonly by: VerifiedCheckpoint;
  readonly stream: string;
  readonly seq: number;
  readonly hash: string;
}

/**
 * Completeness across producers: every run announces itself (signed start), checkpoints its
 * chains each digest interval and signs a stop on a clean close; each start and checkpoint names
 * every earlier run on the same state with the last position it attested. So a run deleted whole,
 * a tail cut off, or a stop removed is named here — and a crash that was restarted is told apart
 * from a cut tail by the later run that names it.
 */
export function checkLineage(
  chains: readonly LineageChain[], checkpoints: readonly VerifiedCheckpoint[], now: number, problems: VerificationProblem[], notes: string[],
  /** `producer\u0000stream` → first seq held, for chains whose head aged out (retention-anchor.ts). */
  heldFrom: ReadonlyMap<string, number> = new Map(),
  /** Whether the digests stream (the checkpoints) has a retention: kept for ever, a producer's first checkpoints never age out. */
  checkpointsMayAgeOut = true,
): ProducerSummary[] {
  const chainsOf = groupBy(chains, (chain) => chain.producerId);
  const checkpointsOf = groupBy(checkpoints, (item) => item.checkpoint.producer_id);
  for (const list of checkpointsOf.values()) list.sort((a, b) => a.checkpoint.seq - b.checkpoint.seq);
  // What each run says about others: positions that must be present, and how each one ended.
  const namedBy = new Map<string, { item: VerifiedCheckpoint; stopped: boolean }[]>();
  const namings = new Map<string, Naming[]>();
  for (const item of checkpoints) {
    const { checkpoint } = item;
    for (const [stream, position] of Object.entries(checkpoint.streams)) {
      push(namings, checkpoint.producer_id, { by: item, stream, seq: position.last_seq, hash: position.last_hash });
    }
    for (const seen of checkpoint.producers) {
      if (seen.producer_id === checkpoint.producer_id) continue;
      push(namedBy, seen.producer_id, { item, stopped: seen.stopped });
      for (const [stream, position] of Object.entries(seen.streams)) {
        push(namings, seen.producer_id, { by: item, stream, seq: position.last_seq, hash: position.last_hash });
      }
    }
  }

  const producers = new Set([...chainsOf.keys(), ...checkpointsOf.keys(), ...namedBy.keys()]);
  const summaries: ProducerSummary[] = [];
  for (const producerId of [...producers].sort()) {
    const own = checkpointsOf.get(producerId) ?? [];
    const ownChains = chainsOf.get(producerId) ?? [];
    const others = namedBy.get(producerId) ?? [];
    // Its records' head aged out: its first checkpoints may have aged out of the digests stream too.
    const aged = checkpointsMayAgeOut && [...heldFrom.keys()].some((key) => key.startsWith(`${producerId}\u0000`));
    checkCheckpointChain(producerId, own, problems, aged);
    checkNamedPositions(producerId, ownChains, (namings.get(producerId) ?? []).filter((naming) => naming.seq >= (heldFrom.get(`${producerId}\u0000${naming.stream}`) ?? 0)), problems);

    const signedStart = own.find((item) => item.checkpoint.event === 'start' && item.checkpoint.seq === 0);
    // Its start aged out with its first records: its oldest held checkpoint stands in for it.
    const start = signedStart ?? (aged && own[0] && own[0].checkpoint.seq > 0 ? own[0] : undefined);
    const stop = own.find((item) => item.checkpoint.event === 'stop');
    const latest = own.at(-1);
    const interval = start?.checkpoint.digest_interval_ms ?? latest?.checkpoint.digest_interval_ms;
    const hasRecords = ownChains.some((chain) => chain.lastSeq >= 0);
    let state: ProducerState;
    if (own.length === 0 && !hasRecords) {
      state = 'missing';
      const first = others[0]!;
      problems.push({
        kind: 'producer-missing', producer_id: producerId, where: first.item.where,
        message: `producer ${producerId} is missing from the trail: ${checkpointName(first.item)} names it as an earlier run, but none of its records, start, checkpoints or stop is here`,
      });
    } else if (!start) {
      state = 'unannounced';
      problems.push({
        kind: 'producer-unannounced', producer_id: producerId,
        message: `producer ${producerId} has ${hasRecords ? 'records' : 'checkpoints'} but no signed start record: its start was removed, or its records were not written by a Portcullis PDP`,
      });
    } else if (stop) {
      state = 'stopped';
    } else if (others.some((other) => other.stopped)) {
      state = 'stop-missing';
      const by = others.find((other) => other.stopped)!;
      problems.push({
        kind: 'stop-missing', producer_id: producerId, where: by.item.where,
        message: `producer ${producerId} stopped cleanly according to ${checkpointName(by.item)}, but its stop record is missing: the tail of its trail was removed`,
      });
    } else if (others.length > 0) {
      state = 'crashed-restarted';
      notes.push(`producer ${producerId} ended without a stop record (a crash): ${checkpointName(others[0]!.item)} restarted on its state and names its last attested position; records it wrote after its last checkpoint cannot be attested`);
    } else {
      const quietFor = now - Date.parse(latest!.checkpoint.time);
      const limit = OVERDUE_INTERVALS * (interval ?? 0);
      if (quietFor > limit) {
        state = 'tail-cut';
        problems.push({
          kind: 'tail-cut', producer_id: producerId, where: latest!.where,
          message: `producer ${producerId} has no stop record and no checkpoint since ${latest!.checkpoint.time} (${Math.round(quietFor / 1000)} s, more than ${OVERDUE_INTERVALS} digest intervals of ${(interval ?? 0) / 1000} s), and no later run names it: the tail of its trail was cut, or it died and its state was never restarted`,
        });
      } else {
        state = 'running';
      }
    }
    checkAttestation(producerId, state, ownChains, latest, problems, notes);
    summaries.push({
      producer_id: producerId,
      state,
      started_at: signedStart?.checkpoint.time ?? null,
      stopped_at: stop?.checkpoint.time ?? null,
      last_checkpoint_at: latest?.checkpoint.time ?? null,
      digest_interval_ms: interval ?? null,
      durability: start?.checkpoint.durability ?? latest?.checkpoint.durability ?? null,
      signing_keys: [...new Set(own.map((item) => item.kid))],
    });
  }
  return summaries;
}

/** seq 0 is the start, then +1 each, each linked to the one before; nothing follows a stop. */
function checkCheckpointChain(producerId: string, own: readonly VerifiedCheckpoint[], problems: VerificationProblem[], aged: boolean): void {
  let previous: VerifiedCheckpoint | undefined;
  for (const item of own) {
    const { checkpoint } = item;
    const base = { producer_id: producerId, where: item.where, seq: checkpoint.seq };
    const expected = previous ? previous.checkpoint.seq + 1 : aged ? checkpoint.seq : 0;
    if (checkpoint.seq === expected - 1 && previous && previous.checkpoint.signature === checkpoint.signature) continue;
    if ((checkpoint.seq === 0) !== (checkpoint.event === 'start')) {
      problems.push({ ...base, kind: 'broken-link', message: `${checkpointName(item)} is a ${checkpoint.event} record at checkpoint seq ${checkpoint.seq}: only seq 0 is a start` });
    }
    if (checkpoint.seq > expected) {
      problems.push({ ...base, kind: 'gap', message: `producer ${producerId} is missing checkpoint seq ${expected}${checkpoint.seq - 1 > expected ? `..${checkpoint.seq - 1}` : ''} before ${checkpointName(item)}` });
    } else if (checkpoint.seq < expected) {
      problems.push({ ...base, kind: 'duplicate-conflict', message: `producer ${producerId} has two different checkpoints with seq ${checkpoint.seq} (${previous?.where} and ${item.where})` });
      continue;
    } else if (previous && checkpoint.previous !== checkpointLinkHash(previous.checkpoint.signature)) {
      problems.push({ ...base, kind: 'broken-link', message: `${checkpointName(item)} does not link to ${checkpointName(previous)}` });
    } else if (!previous && checkpoint.seq === 0 && checkpoint.previous !== null) {
      problems.push({ ...base, kind: 'broken-link', message: `${checkpointName(item)} starts the producer but links to ${checkpoint.previous}` });
    }
    if (previous?.checkpoint.event === 'stop') {
      problems.push({ ...base, kind: 'after-stop', message: `${checkpointName(item)} follows the producer's stop record` });
    }
    previous = item;
  }
}

/** Every position a checkpoint names (its own, or an earlier run's) must be here, with that hash. */
function checkNamedPositions(producerId: string, chains: readonly LineageChain[], namings: readonly Naming[], problems: VerificationProblem[]): void {
  const reported = new Set<string>();
  // Highest positions first: one cut tail is named once, by the position that reaches furthest.
  for (const naming of [...namings].sort((a, b) => b.seq - a.seq)) {
    const chain = chains.find((candidate) => candidate.stream === naming.stream);
    const key = `${naming.stream}\u0000${naming.seq}`;
    const found = chain?.hashes.get(naming.seq);
    if (found === naming.hash || reported.has(naming.stream) || reported.has(key)) continue;
    const base = { producer_id: producerId, stream: naming.stream, seq: naming.seq, where: naming.by.where };
    if (found === undefined) {
      reported.add(naming.stream);
      const end = chain && chain.lastSeq >= 0 ? `its ${naming.stream} chain ends at seq ${chain.lastSeq}` : `none of its ${naming.stream} records is here`;
      problems.push({ ...base, kind: 'truncated', message: `${checkpointName(naming.by)} attests ${naming.stream} of producer ${producerId} up to seq ${naming.seq}, but ${end}: records were cut` });
    } else {
      reported.add(key);
      problems.push({ ...base, kind: 'truncated', message: `${checkpointName(naming.by)} attests ${naming.stream} seq ${naming.seq} of producer ${producerId} with hash ${naming.hash}, but the record there hashes ${found}: the chain was rewritten` });
    }
  }
}

/** Records past the last signed position: expected only at the live end of a running producer. */
function checkAttestation(
  producerId: string, state: ProducerState, chains: readonly LineageChain[], latest: VerifiedCheckpoint | undefined, problems: VerificationProblem[], notes: string[],
): void {
  for (const chain of chains) {
    if (chain.lastSeq < 0) continue;
    const attestedThrough = latest?.checkpoint.streams[chain.stream as keyof CheckpointRecord['streams']]?.last_seq ?? -1;
    const pending = chain.lastSeq - attestedThrough;
    const name = `${chain.stream} chain of producer ${producerId}`;
    const base = { producer_id: producerId, stream: chain.stream, seq: attestedThrough + 1 };
    if (state === 'running' || state === 'crashed-restarted') {
      if (pending > 0) notes.push(`${name}: ${pending} record(s) after its last checkpoint (seq ${attestedThrough + 1}..${chain.lastSeq}) are not yet attested${state === 'crashed-restarted' ? ' (written before the crash)' : ''}`);
      continue;
    }
    if (state === 'stopped' && !chain.digested) {
      problems.push({ ...base, kind: 'no-digest', message: `${name} has ${chain.hashes.size} record(s) and no signed digest, although the producer stopped cleanly: its digests were removed` });
    }
    if (pending > 0 && state !== 'missing') {
      problems.push({ ...base, kind: 'unattested', message: `${name}: ${pending} record(s) (seq ${attestedThrough + 1}..${chain.lastSeq}) are attested by no signed checkpoint${state === 'stopped' ? ' although the producer stopped cleanly: records were added after its stop' : ''}` });
    }
  }
}

function checkpointName(item: VerifiedCheckpoint): string {
  return `the ${item.checkpoint.event} record of producer ${item.checkpoint.producer_id} (checkpoint seq ${item.checkpoint.seq}, ${item.where})`;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) push(groups, key(item), item);
  return groups;
}

function push<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list) list.push(item);
  else map.set(key, [item]);
}
