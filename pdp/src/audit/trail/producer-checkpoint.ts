import { AUDIT_STREAMS, type AuditStream } from '../audit-event.ts';
import { canonicalJson } from './canonical-json.ts';
import { sha256 } from './hash-chain.ts';
import { asNumber, asObject, asString } from '../json-fields.ts';
import { RETAINED_STREAMS, type RetainedStream } from '../../config/audit-retention-config.ts';

export const CHECKPOINT_TYPE = 'portcullis.audit.checkpoint.v1';

/** A producer's signed life: `start` (seq 0), a `checkpoint` every digest interval, `stop` on a clean close. */
export type CheckpointEvent = 'start' | 'checkpoint' | 'stop';

export type AuditDurability = 'sync' | 'async';

const STREAMS: readonly AuditStream[] = AUDIT_STREAMS;

/** Where one chain stood: the seq and hash of its last record. */
export interface StreamPosition {
  readonly last_seq: number;
  readonly last_hash: string;
}

export type StreamPositions = Partial<Record<AuditStream, StreamPosition>>;

/** Another producer this one has seen (an earlier run on the same state), as last known. */
export interface SeenProducer {
  readonly producer_id: string;
  readonly streams: StreamPositions;
  /** True when it wrote its stop record; false when it ended without one (a crash). */
  readonly stopped: boolean;
}

/** What a checkpoint attests (docs/audit-events.md); the signature's payload is their canonical JSON. */
export interface CheckpointFields {
  readonly type: typeof CHECKPOINT_TYPE;
  readonly event: CheckpointEvent;
  readonly producer_id: string;
  /** 0 for start, then +1 per checkpoint, without gaps. */
  readonly seq: number;
  /** sha256 of the previous checkpoint's signature; null for the start. */
  readonly previous: string | null;
  readonly time: string;
  /** How often this producer signs digests and checkpoints: the verifier's clock for "overdue". */
  readonly digest_interval_ms: number;
  /** Whether answers waited for their records to be durable (sync) or not (async). */
  readonly durability: AuditDurability;
  /** Where this producer's own chains stand. */
  readonly streams: StreamPositions;
  /** Every other producer seen on this state, with its last known position. */
  readonly producers: readonly SeenProducer[];
  /**
   * How long this producer was configured to keep each stream (ms; null: for ever), signed so a
   * store whose stated retention was shortened afterwards cannot pass deleted records off as aged
   * out. Absent on checkpoints written before it was signed.
   */
  readonly retention_ms?: SignedRetention;
}

export type SignedRetention = Readonly<Partial<Record<RetainedStream, number | null>>>;

export interface CheckpointRecord extends CheckpointFields {
  /** Compact JWS, ES256, with kid; payload = `checkpointPayload(fields)`. */
  readonly signature: string;
}

export function checkpointPayload(fields: CheckpointFields): string {
  const { type, event, producer_id, seq, previous, time, digest_interval_ms, durability, streams, producers, retention_ms } = fields;
  // Without retention_ms the payload is exactly what earlier checkpoints signed.
  return canonicalJson({ type, event, producer_id, seq, previous, time, digest_interval_ms, durability, streams, producers, ...(retention_ms === undefined ? {} : { retention_ms }) });
}

/** What the next checkpoint of the same producer puts in `previous`. */
export function checkpointLinkHash(signature: string): string {
  return sha256(signature);
}

/** Reads a checkpoint record from parsed JSON; a string says what is wrong with it. */
export function readCheckpointRecord(value: unknown): CheckpointRecord | string {
  const object = asObject(value);
  if (!object) return 'not a JSON object';
  if (object.type !== CHECKPOINT_TYPE) return `type is ${JSON.stringify(object.type)}, not ${CHECKPOINT_TYPE}`;
  const event = object.event;
  if (event !== 'start' && event !== 'checkpoint' && event !== 'stop') return `event ${JSON.stringify(event)} is not start, checkpoint or stop`;
  const producer = asString(object.producer_id);
  const seq = asNumber(object.seq);
  const interval = asNumber(object.digest_interval_ms);
  const time = asString(object.time);
  const signature = asString(object.signature);
  const previous = object.previous;
  if (!producer) return 'producer_id is missing';
  if (seq === undefined || !Number.isSafeInteger(seq) || seq < 0) return 'seq is not a non-negative integer';
  if (previous !== null && typeof previous !== 'string') return 'previous is neither a hash nor null';
  if (!time || Number.isNaN(Date.parse(time))) return 'time is not an ISO time';
  if (interval === undefined || !Number.isSafeInteger(interval) || interval <= 0) return 'digest_interval_ms is not a positive integer';
  if (object.durability !== 'sync' && object.durability !== 'async') return 'durability is neither sync nor async';
  if (!signature) return 'signature is missing';
  const streams = readPositions(object.streams);
  if (typeof streams === 'string') return streams;
  if (!Array.isArray(object.producers)) return 'producers is not a list';
  const producers: SeenProducer[] = [];
  for (const item of object.producers) {
    const seen = asObject(item);
    const id = asString(seen?.producer_id);
    const positions = readPositions(seen?.streams);
    if (!seen || !id || typeof positions === 'string' || typeof seen.stopped !== 'boolean') return 'producers holds an entry that is not {producer_id, streams, stopped}';
    producers.push({ producer_id: id, streams: positions, stopped: seen.stopped });
  }
  const retention = object.retention_ms === undefined ? undefined : readRetention(object.retention_ms);
  if (typeof retention === 'string') return retention;
  return {
    type: CHECKPOINT_TYPE, event, producer_id: producer, seq, previous, time, digest_interval_ms: interval,
    durability: object.durability, streams, producers, ...(retention === undefined ? {} : { retention_ms: retention }), signature,
  };
}

function readRetention(value: unknown): SignedRetention | string {
  const object = asObject(value);
  if (!object) return 'retention_ms is not an object';
  const retention: Partial<Record<RetainedStream, number | null>> = {};
  for (const [name, item] of Object.entries(object)) {
    if (!(RETAINED_STREAMS as readonly string[]).includes(name)) return `retention_ms names ${JSON.stringify(name)}`;
    if (item !== null && (typeof item !== 'number' || !Number.isSafeInteger(item) || item <= 0)) return `retention_ms.${name} is neither a positive number of ms nor null`;
    retention[name as RetainedStream] = item as number | null;
  }
  return retention;
}

function readPositions(value: unknown): StreamPositions | string {
  const object = asObject(value);
  if (!object) return 'streams is not an object';
  const positions: Partial<Record<AuditStream, StreamPosition>> = {};
  for (const [name, item] of Object.entries(object)) {
    if (!STREAMS.includes(name as AuditStream)) return `streams names ${JSON.stringify(name)}`;
    const position = asObject(item);
    const seq = asNumber(position?.last_seq);
    const hash = asString(position?.last_hash);
    if (seq === undefined || !Number.isSafeInteger(seq) || seq < 0 || !hash) return `streams.${name} is not {last_seq, last_hash}`;
    positions[name as AuditStream] = { last_seq: seq, last_hash: hash };
  }
  return positions;
}
