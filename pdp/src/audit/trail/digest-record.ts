import { AUDIT_STREAMS, type AuditStream } from '../audit-event.ts';
import { canonicalJson } from './canonical-json.ts';
import { sha256 } from './hash-chain.ts';
import { asNumber, asObject, asString } from '../json-fields.ts';

export const DIGEST_TYPE = 'portcullis.audit.digest.v1';

const STREAMS: ReadonlySet<string> = new Set(AUDIT_STREAMS);

/** What a digest attests (docs/audit-events.md); the signature's payload is their canonical JSON. */
export interface DigestFields {
  readonly type: typeof DIGEST_TYPE;
  readonly producer_id: string;
  readonly stream: AuditStream;
  readonly first_seq: number;
  readonly last_seq: number;
  readonly count: number;
  /** Hash of the record at last_seq. */
  readonly last_hash: string;
  /** sha256 over the `hash` of every record first..last, in order, joined by "\n". */
  readonly root_hash: string;
  /** sha256 of the previous digest's signature for this producer and stream; null for the first. */
  readonly previous_digest: string | null;
  /** ISO time the digest was made. */
  readonly time: string;
}

/** A digest record as written to the digests stream. */
export interface DigestRecord extends DigestFields {
  /** Compact JWS, ES256, with kid; payload = `digestPayload(fields)`. */
  readonly signature: string;
}

export function digestRootHash(hashes: readonly string[]): string {
  return sha256(hashes.join('\n'));
}

/** What the next digest of the same producer and stream puts in `previous_digest`. */
export function digestLinkHash(signature: string): string {
  return sha256(signature);
}

/** The exact bytes signed: the canonical JSON of every field but the signature. */
export function digestPayload(fields: DigestFields): string {
  const { type, producer_id, stream, first_seq, last_seq, count, last_hash, root_hash, previous_digest, time } = fields;
  return canonicalJson({ type, producer_id, stream, first_seq, last_seq, count, last_hash, root_hash, previous_digest, time });
}

/** Reads a digest record from parsed JSON; a string says what is wrong with it. */
export function readDigestRecord(value: unknown): DigestRecord | string {
  const object = asObject(value);
  if (!object) return 'not a JSON object';
  if (object.type !== DIGEST_TYPE) return `type is ${JSON.stringify(object.type)}, not ${DIGEST_TYPE}`;
  const text = (name: string): string | undefined => asString(object[name]);
  const seq = (name: string): number | undefined => {
    const number = asNumber(object[name]);
    return number !== undefined && Number.isSafeInteger(number) && number >= 0 ? number : undefined;
  };
  const producer = text('producer_id');
  const stream = text('stream');
  const first = seq('first_seq');
  const last = seq('last_seq');
  const count = seq('count');
  const lastHash = text('last_hash');
  const rootHash = text('root_hash');
  const time = text('time');
  const signature = text('signature');
  const previous = object.previous_digest;
  if (!producer) return 'producer_id is missing';
  if (!stream || !STREAMS.has(stream)) return `stream ${JSON.stringify(stream)} is not decisions, sessions or approvals`;
  if (first === undefined || last === undefined || last < first) return 'first_seq/last_seq are not a range of non-negative integers';
  if (count === undefined) return 'count is not a non-negative integer';
  if (!lastHash || !rootHash) return 'last_hash or root_hash is missing';
  if (previous !== null && typeof previous !== 'string') return 'previous_digest is neither a hash nor null';
  if (!time) return 'time is missing';
  if (!signature) return 'signature is missing';
  return {
    type: DIGEST_TYPE, producer_id: producer, stream: stream as AuditStream, first_seq: first, last_seq: last, count,
    last_hash: lastHash, root_hash: rootHash, previous_digest: previous, time, signature,
  };
}
