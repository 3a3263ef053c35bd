import { compactVerify, createLocalJWKSet, decodeProtectedHeader, errors } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { AUDIT_STREAMS, type AuditStream } from '../audit-event.ts';
import { digestLinkHash, digestPayload, digestRootHash, readDigestRecord, type DigestRecord } from '../trail/digest-record.ts';
import { recordHash } from '../trail/hash-chain.ts';
import { asNumber, asObject, asString, fieldAt } from '../json-fields.ts';
import { CHECKPOINT_TYPE, checkpointPayload, readCheckpointRecord } from '../trail/producer-checkpoint.ts';
import { checkLineage, type ProducerSummary, type VerifiedCheckpoint } from './producer-lineage.ts';
import type { VerificationProblem } from './verification-problem.ts';
import { retentionInForce } from './retention-in-force.ts';
import { anchorRefusal, chainsAgedOut, findRetentionAnchor, type ChainAgedOut, type ChainStart } from './retention-anchor.ts';
import { checkPolicyAttestation, policyMentionOf, type PolicyMention } from './policy-attestation.ts';
import { auditBodyMember } from '../ocsf/portcullis-body.ts';

export type { ChainAgedOut, ChainStart } from './retention-anchor.ts';

export type { ProblemKind, VerificationProblem } from './verification-problem.ts';

/** One producer's chain of one stream, as found. */
export interface ChainSummary {
  readonly producer_id: string;
  readonly stream: string;
  readonly records: number;
  readonly first_seq: number;
  readonly last_seq: number;
  readonly digests: number;
  /** Records inside the ranges of digests whose signature verified. */
  readonly attested: number;
}

/** Which keys the verifier trusted, and where they came from (audit-key-trust.ts). */
export interface KeyTrust {
  /** `jwks-file`: given out of band; `thumbprint-pin`: a JWKS filtered to pinned thumbprints; `audit-folder`: the JWKS beside the records. */
  readonly source: 'jwks-file' | 'thumbprint-pin' | 'audit-folder';
  readonly path: string;
  /** RFC 7638 thumbprints of the keys used (each also its kid). */
  readonly thumbprints: readonly string[];
  /** Set when the keys prove little: anyone who can rewrite the records can replace them. */
  readonly warning?: string;
}

export interface VerificationReport {
  readonly ok: boolean;
  readonly trust?: KeyTrust;
  /** Each run (producer): how it started and ended, as its signed checkpoints tell. */
  readonly producers: readonly ProducerSummary[];
  readonly counts: {
    /** Distinct records (producer, stream, seq); harmless duplicates are not counted twice. */
    readonly records: number;
    readonly producers: number;
    readonly streams: number;
    /** Digest records read. */
    readonly digests: number;
    /** Digests whose signature verified against the JWKS. */
    readonly digests_verified: number;
    /** Start, checkpoint and stop records whose signature verified. */
    readonly checkpoints_verified: number;
    readonly records_attested: number;
  };
  readonly chains: readonly ChainSummary[];
  /** Chains whose oldest records aged out (retention): verified from a signed checkpoint on. */
  readonly started_from: readonly ChainStart[];
  /** Chains of which nothing is held, all older than their stream's retention. */
  readonly aged_out: readonly ChainAgedOut[];
  readonly problems: readonly VerificationProblem[];
  /** Harmless findings: duplicates with the same hash, records not yet attested by a digest. */
  readonly notes: readonly string[];
}

export interface StoredItem {
  /** Parsed JSON, or the raw text (string or bytes) of one record. */
  readonly record: unknown;
  /** e.g. "topic portcullis.decisions.v1 partition 0 offset 17" or "decisions.jsonl line 12". */
  readonly where: string;
  /** Bytes a crash left unterminated at the end of the store (StoredRecord.tornTail). */
  readonly tornTail?: boolean;
}

export interface VerifyAuditInput {
  readonly records: AsyncIterable<StoredItem>;
  readonly digests: AsyncIterable<StoredItem>;
  readonly jwks: JSONWebKeySet;
  /** Reported as given; problems of its own (no trusted key) are the caller's to add. */
  readonly trust?: KeyTrust;
  /** The time "overdue" is measured against (default: now). */
  readonly now?: Date;
  /** How long the store keeps each stream (ms, null: for ever): a chain wholly older may be gone. */
  readonly retention?: Readonly<Record<string, number | null | undefined>>;
  /** Problems found before reading (e.g. the pinned key is not in the JWKS). */
  readonly problems?: readonly VerificationProblem[];
}

const STREAMS: ReadonlySet<string> = new Set<AuditStream>(AUDIT_STREAMS);

/** What is kept of a record: its link and how to name it, never the record itself. */
interface Entry {
  readonly seq: number;
  readonly hash: string;
  readonly prev: string | null;
  readonly where: string;
  /** The decision id, else the event uid. */
  readonly id: string | undefined;
  readonly isDecision: boolean;
  /** Whether it recomputes to its hash. */
  readonly intact: boolean;
  /** On the decisions stream: the revision a decision names, or a live bundle's activation (policy-attestation.ts). */
  readonly policy?: PolicyMention;
}

interface Chain {
  readonly producerId: string;
  readonly stream: string;
  readonly entries: Map<number, Entry>;
  duplicates: number[];
}

interface VerifiedDigest {
  readonly digest: DigestRecord;
  readonly where: string;
}

/**
 * Proves completeness, integrity and authenticity of an audit trail (docs/audit-events.md):
 * every chain runs from seq 0 without a gap, every record recomputes to its hash and links to
 * the one before, every digest is signed by a key of `jwks`, covers records that are all
 * present and match its count, last hash and root hash, and links to the digest before it.
 * Records may arrive in any order (Kafka partitions); only a link and a name are kept per record.
 */
export async function verifyAudit(input: VerifyAuditInput): Promise<VerificationReport> {
  const problems: VerificationProblem[] = [...(input.problems ?? [])];
  const notes: string[] = [];
  const chains = new Map<string, Chain>();

  for await (const { record, where, tornTail } of input.records) {
    const item = parseItem(record);
    if ('error' in item && tornTail) {
      notes.push(tornTailNote(where));
      continue;
    }
    if ('error' in item) {
      problems.push({ kind: 'unparseable', message: `record at ${where} is not an audit record: ${item.error}`, where });
      continue;
    }
    const parsed = item.value;
    const link = readChainLink(parsed);
    if (typeof link === 'string') {
      problems.push({ kind: 'unparseable', message: `record at ${where} is not an audit record: ${link}`, where });
      continue;
    }
    const decisionId = asString(auditBodyMember(parsed, 'decision_id')) ?? asString(fieldAt(auditBodyMember(parsed, 'approval'), 'decision_id'));
    const uid = asString(fieldAt(parsed, 'metadata', 'uid'));
    const recomputed = recordHash(parsed);
    const intact = recomputed === link.hash;
    const policy = link.stream === 'decisions' ? policyMentionOf(parsed) : undefined;
    const entry: Entry = { seq: link.seq, hash: link.hash, prev: link.prev_hash, where, id: decisionId ?? uid, isDecision: decisionId !== undefined, intact, ...(policy ? { policy } : {}) };
    const chain = chainOf(chains, link.producer_id, link.stream);
    if (!intact) {
      problems.push({
        ...at(chain, entry),
        kind: 'hash-mismatch',
        message: `${nameOf(chain, entry)} was altered: it hashes to ${recomputed}, not to its recorded ${link.hash}`,
      });
    }
    const existing = chain.entries.get(entry.seq);
    if (!existing) {
      chain.entries.set(entry.seq, entry);
    } else if (existing.hash === entry.hash) {
      chain.duplicates.push(entry.seq);
    } else {
      problems.push({
        ...at(chain, entry),
        kind: 'duplicate-conflict',
        message: `${chainName(chain)} has two different records with seq ${entry.seq}: ${describe(existing)} hashes ${existing.hash}, ${describe(entry)} hashes ${entry.hash}`,
      });
      // Keep the first that recomputes; a corrupted one gives way to an intact one.
      if (intact && !existing.intact) chain.entries.set(entry.seq, entry);
    }
  }

  const digests = await readDigests(input.digests, input.jwks, problems, notes);
  const inForce = retentionInForce(input.retention, digests.checkpoints);
  const retention = inForce.retention;
  for (const cut of inForce.shortened) {
    problems.push({
      kind: 'retention-shortened',
      stream: cut.stream,
      message: `the store keeps the ${cut.stream} stream ${cut.storedMs} ms, shorter than the ${cut.signedMs === null ? 'for ever' : `${cut.signedMs} ms`} the PDP signed in its checkpoint of ${inForce.signedBy?.time} (producer ${inForce.signedBy?.producer_id}, seq ${inForce.signedBy?.seq}): records may have been deleted before their time, and missing ones are judged by the signed retention`,
    });
  }
  if (inForce.signedBy) notes.push(`retention as signed by producer ${inForce.signedBy.producer_id} in its checkpoint seq ${inForce.signedBy.seq} (${inForce.signedBy.time}) is the least the store may keep`);
  const ordered = new Map<string, Entry[]>();
  const anchors = new Map<string, ChainStart>();
  for (const [key, chain] of chains) {
    const entries = [...chain.entries.values()].sort((a, b) => a.seq - b.seq);
    ordered.set(key, entries);
    const first = entries[0];
    const anchor = first && findRetentionAnchor(
      { producerId: chain.producerId, stream: chain.stream, firstSeq: first.seq, firstPrevHash: first.prev, hashes: new Map([...chain.entries].map(([seq, entry]) => [seq, entry.hash])) },
      digests.checkpoints,
    );
    const refusal = anchor && anchorRefusal(anchor, digests.checkpoints, retention[chain.stream], (input.now ?? new Date()).getTime());
    if (refusal) notes.push(`${chainName(chain)}: no retention anchor: ${refusal}`);
    if (anchor && !refusal) {
      anchors.set(key, anchor);
      notes.push(`${chainName(chain)}: seq 0..${anchor.first_seq - 1} aged out; verified from seq ${anchor.first_seq} on, against seq ${anchor.anchor_seq} as signed by the ${anchor.checkpoint.event} record of producer ${anchor.checkpoint.producer_id} (checkpoint seq ${anchor.checkpoint.seq}, ${anchor.checkpoint.time})`);
    }
    const excusedAnchor = refusal ? undefined : anchor;
    checkChain(chain, entries, problems, excusedAnchor);
    checkPolicyAttestation(chain, entries, headMayHaveAgedOut(chain.producerId, excusedAnchor, retention[chain.stream], digests.checkpoints, input.now ?? new Date()), problems, notes);
    if (chain.duplicates.length > 0) {
      notes.push(`${chainName(chain)}: ${chain.duplicates.length} duplicate record(s) with identical hashes (${ranges(chain.duplicates.sort((a, b) => a - b))}); harmless, e.g. a resend after a crash`);
    }
  }
  const now = (input.now ?? new Date()).getTime();
  const agedOut = chainsAgedOut(digests.checkpoints, new Set([...chains.values()].map((chain) => `${chain.producerId}\u0000${chain.stream}`)), retention, now);
  for (const aged of agedOut) notes.push(`${aged.stream} chain of producer ${aged.producer_id}: seq 0..${aged.through_seq} aged out whole (last signed ${aged.last_signed_at}, older than the stream's retention)`);
  const heldFrom = new Map([
    ...[...anchors.values()].map((anchor) => [chainKey(anchor.producer_id, anchor.stream), anchor.first_seq] as const),
    ...agedOut.map((aged) => [chainKey(aged.producer_id, aged.stream), aged.through_seq + 1] as const),
  ]);
  const attested = checkDigests(chains, digests.verified, problems, heldFrom, notes);
  const producers = checkLineage(
    [...chains.entries()].map(([key, chain]) => ({
      producerId: chain.producerId,
      stream: chain.stream,
      hashes: new Map([...chain.entries].map(([seq, entry]) => [seq, entry.hash])),
      lastSeq: ordered.get(key)?.at(-1)?.seq ?? -1,
      digested: digests.verified.some(({ digest }) => chainKey(digest.producer_id, digest.stream) === key),
    })),
    digests.checkpoints,
    now,
    problems,
    notes,
    new Map([
      ...[...anchors.values()].map((anchor) => [`${anchor.producer_id}\u0000${anchor.stream}`, anchor.first_seq] as const),
      ...agedOut.map((aged) => [`${aged.producer_id}\u0000${aged.stream}`, aged.through_seq + 1] as const),
    ]),
    typeof retention.digests === 'number',
  );

  const chainSummaries: ChainSummary[] = [...chains.entries()].map(([key, chain]) => {
    const entries = ordered.get(key) ?? [];
    return {
      producer_id: chain.producerId,
      stream: chain.stream,
      records: entries.length,
      first_seq: entries[0]?.seq ?? 0,
      last_seq: entries.at(-1)?.seq ?? -1,
      digests: digests.verified.filter(({ digest }) => chainKey(digest.producer_id, digest.stream) === key).length,
      attested: attested.get(key) ?? 0,
    };
  }).sort((a, b) => a.stream.localeCompare(b.stream) || a.producer_id.localeCompare(b.producer_id));

  return {
    ok: problems.length === 0,
    ...(input.trust ? { trust: input.trust } : {}),
    producers,
    counts: {
      records: chainSummaries.reduce((sum, chain) => sum + chain.records, 0),
      producers: new Set(chainSummaries.map((chain) => chain.producer_id)).size,
      streams: new Set(chainSummaries.map((chain) => chain.stream)).size,
      digests: digests.read,
      digests_verified: digests.verified.length,
      checkpoints_verified: digests.checkpoints.length,
      records_attested: chainSummaries.reduce((sum, chain) => sum + chain.attested, 0),
    },
    chains: chainSummaries,
    aged_out: agedOut,
    started_from: [...anchors.values()].sort((a, b) => a.stream.localeCompare(b.stream) || a.producer_id.localeCompare(b.producer_id)),
    problems,
    notes,
  };
}

/**
 * Whether a chain's missing head can be records that retention removed: only on a stream kept
 * for a limited time, and only when the producer started (its signed start record, if held)
 * longer ago than that time. A head written more recently cannot have aged out.
 */
function headMayHaveAgedOut(producerId: string, anchor: ChainStart | undefined, retentionMs: number | null | undefined, checkpoints: readonly VerifiedCheckpoint[], now: Date): boolean {
  if (!anchor || typeof retentionMs !== 'number') return false;
  const start = checkpoints.find(({ checkpoint }) => checkpoint.producer_id === producerId && checkpoint.event === 'start');
  return !start || Date.parse(start.checkpoint.time) < now.getTime() - retentionMs;
}

/** Completeness and integrity of one chain, in seq order. */
function checkChain(chain: Chain, entries: readonly Entry[], problems: VerificationProblem[], anchor: ChainStart | undefined): void {
  let previous: Entry | undefined;
  for (const entry of entries) {
    const expected = previous ? previous.seq + 1 : anchor?.first_seq ?? 0;
    if (entry.seq > expected) {
      problems.push({
        kind: 'gap',
        where: entry.where,
        producer_id: chain.producerId,
        stream: chain.stream,
        seq: expected,
        message: previous
          ? `${chainName(chain)} is missing ${span(expected, entry.seq - 1)} between ${describe(previous)} and ${describe(entry)}`
          : `${chainName(chain)} is missing ${span(0, entry.seq - 1)} before its first record found, ${describe(entry)}`,
      });
    } else if (!previous && !anchor && entry.prev !== null) {
      problems.push({ ...at(chain, entry), kind: 'broken-link', message: `${nameOf(chain, entry)} starts the chain but its prev_hash is ${entry.prev}, not null` });
    } else if (previous && entry.prev !== previous.hash) {
      problems.push({
        ...at(chain, entry),
        kind: 'broken-link',
        message: `${nameOf(chain, entry)} does not link to ${describe(previous)}: its prev_hash is ${entry.prev ?? 'null'}, the record before hashes ${previous.hash}`,
      });
    }
    previous = entry;
  }
}

/**
 * A line cut short at the very end of a stream is a write not yet acknowledged (an answer waits
 * for its fsync): one still under way, or one a crash cut short. Not a record, nor a sign of
 * tampering; the PDP cuts a crash's off when it restarts.
 */
function tornTailNote(where: string): string {
  return `${where}: an unterminated line at the end of the stream (a write under way, or one a crash cut short): not a record; a restarted PDP cuts it off`;
}

async function readDigests(
  items: AsyncIterable<StoredItem>, jwks: JSONWebKeySet, problems: VerificationProblem[], notes: string[],
): Promise<{ read: number; verified: VerifiedDigest[]; checkpoints: VerifiedCheckpoint[] }> {
  const keys = createLocalJWKSet(jwks);
  const seen = new Map<string, VerifiedDigest>();
  const checkpoints = new Map<string, VerifiedCheckpoint>();
  let read = 0;
  for await (const { record, where, tornTail } of items) {
    const item = parseItem(record);
    if ('error' in item && tornTail) {
      notes.push(tornTailNote(where));
      continue;
    }
    read += 1;
    if (!('error' in item) && asObject(item.value)?.type === CHECKPOINT_TYPE) {
      await readCheckpoint(item.value, where, keys, checkpoints, problems, notes);
      continue;
    }
    const digest = 'error' in item ? item.error : readDigestRecord(item.value);
    if (typeof digest === 'string') {
      problems.push({ kind: 'unparseable', message: `digest at ${where} is not a digest record: ${digest}`, where });
      continue;
    }
    const name = digestName(digest, where);
    const failure = await signatureFailure(digest.signature, digestPayload(digest), digest as unknown as Record<string, unknown>, keys);
    if (failure) {
      problems.push({ kind: 'bad-signature', message: `${name}: ${failure}`, where, producer_id: digest.producer_id, stream: digest.stream, seq: digest.first_seq });
      continue;
    }
    const key = `${chainKey(digest.producer_id, digest.stream)}\u0000${digest.first_seq}`;
    const earlier = seen.get(key);
    if (!earlier) {
      seen.set(key, { digest, where });
    } else if (earlier.digest.signature === digest.signature) {
      notes.push(`${name} is a duplicate of the digest at ${earlier.where}; harmless`);
    } else {
      problems.push({
        kind: 'duplicate-conflict', where, producer_id: digest.producer_id, stream: digest.stream, seq: digest.first_seq,
        message: `${name} and the digest at ${earlier.where} are both validly signed for the range starting at seq ${digest.first_seq} but differ`,
      });
    }
  }
  return { read, verified: [...seen.values()], checkpoints: [...checkpoints.values()] };
}

/** A start, checkpoint or stop record: kept when its signature verifies; identical copies once. */
async function readCheckpoint(
  value: unknown, where: string, keys: ReturnType<typeof createLocalJWKSet>, seen: Map<string, VerifiedCheckpoint>, problems: VerificationProblem[], notes: string[],
): Promise<void> {
  const checkpoint = readCheckpointRecord(value);
  if (typeof checkpoint === 'string') {
    problems.push({ kind: 'unparseable', message: `checkpoint at ${where} is not a checkpoint record: ${checkpoint}`, where });
    return;
  }
  const name = `${checkpoint.event} record of producer ${checkpoint.producer_id} (checkpoint seq ${checkpoint.seq}, ${where})`;
  const failure = await signatureFailure(checkpoint.signature, checkpointPayload(checkpoint), checkpoint as unknown as Record<string, unknown>, keys);
  if (failure) {
    problems.push({ kind: 'bad-signature', message: `${name}: ${failure}`, where, producer_id: checkpoint.producer_id, seq: checkpoint.seq });
    return;
  }
  const key = `${checkpoint.producer_id}\u0000${checkpoint.seq}`;
  const earlier = seen.get(key);
  if (!earlier) {
    seen.set(key, { checkpoint, where, kid: kidOf(checkpoint.signature) });
  } else if (earlier.checkpoint.signature === checkpoint.signature) {
    notes.push(`the ${name} is a duplicate of the one at ${earlier.where}; harmless`);
  } else {
    problems.push({ kind: 'duplicate-conflict', where, producer_id: checkpoint.producer_id, seq: checkpoint.seq, message: `the ${name} and the one at ${earlier.where} are both validly signed for checkpoint seq ${checkpoint.seq} but differ` });
  }
}

function kidOf(signature: string): string {
  try {
    return asString(decodeProtectedHeader(signature).kid) ?? 'none';
  } catch {
    return 'none';
  }
}


/** Why a signed record's signature does not vouch for its fields (`expected` payload), or undefined when it does. */
async function signatureFailure(signature: string, expected: string, fields: Record<string, unknown>, keys: ReturnType<typeof createLocalJWKSet>): Promise<string | undefined> {
  let kid = 'none';
  try {
    kid = asString(decodeProtectedHeader(signature).kid) ?? 'none';
  } catch {
    return 'the signature is not a compact JWS';
  }
  let payload: string;
  try {
    payload = new TextDecoder().decode((await compactVerify(signature, keys, { algorithms: ['ES256'] })).payload);
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey) return `signed with key ${kid}, which is not in the JWKS: forged or signed by another key`;
    if (error instanceof errors.JWSSignatureVerificationFailed) return `the signature does not verify against key ${kid}: forged or altered`;
    return `the signature cannot be verified (key ${kid}): ${error instanceof Error ? error.message : String(error)}`;
  }
  if (payload === expected) return undefined;
  const signed = asObject(safeParse(payload)) ?? {};
  const changed = Object.keys(JSON.parse(expected) as object).filter((field) => JSON.stringify(signed[field]) !== JSON.stringify(fields[field]));
  return `the signature (key ${kid}) is valid but signs other values: ${changed.join(', ') || 'the payload'} differ from the record, so the record was altered`;
}

/**
 * Authenticity and coverage: each verified digest's range is present and matches, digests link
 * to each other without holes. Returns, per chain, how many present records verified digests cover.
 */
function checkDigests(
  chains: Map<string, Chain>, digests: readonly VerifiedDigest[], problems: VerificationProblem[], heldFrom: ReadonlyMap<string, number>, notes: string[],
): Map<string, number> {
  const byChain = new Map<string, VerifiedDigest[]>();
  for (const item of digests) {
    const key = chainKey(item.digest.producer_id, item.digest.stream);
    const list = byChain.get(key) ?? [];
    list.push(item);
    byChain.set(key, list);
  }
  const attested = new Map<string, number>();
  for (const [key, list] of byChain) {
    list.sort((a, b) => a.digest.first_seq - b.digest.first_seq);
    const chain = chains.get(key);
    let covered = 0;
    let previous: VerifiedDigest | undefined;
    const firstHeld = heldFrom.get(key);
    let agedDigests = 0;
    for (const item of list) {
      const { digest, where } = item;
      const name = digestName(digest, where);
      const base = { where, producer_id: digest.producer_id, stream: digest.stream, seq: digest.first_seq };
      // A digest reaching into records that aged out cannot be recomputed; the checkpoint anchor proves what is held.
      if (firstHeld !== undefined && digest.first_seq < firstHeld) agedDigests += 1;
      else covered += checkDigestRange(chain, digest, name, base, problems);
      if (!previous && firstHeld !== undefined) {
        if (digest.previous_digest !== null) notes.push(`${name} links to a digest that aged out with the records it attested`);
      } else if (!previous) {
        if (digest.previous_digest !== null) {
          problems.push({ ...base, kind: 'broken-link', message: `${name} links to a previous digest ${digest.previous_digest} that was not found` });
        } else if (digest.first_seq > 0) {
          problems.push({ ...base, kind: 'gap', message: `no digest attests ${span(0, digest.first_seq - 1)} of ${key.replace('\u0000', ' ')} before ${name}` });
        }
      } else {
        const last = previous.digest;
        if (digest.previous_digest !== digestLinkHash(last.signature)) {
          problems.push({ ...base, kind: 'broken-link', message: `${name} does not link to the digest before it (${digestName(last, previous.where)}): its previous_digest is ${digest.previous_digest ?? 'null'}, expected ${digestLinkHash(last.signature)}` });
        }
        if (digest.first_seq > last.last_seq + 1) {
          problems.push({ ...base, kind: 'gap', message: `no digest attests ${span(last.last_seq + 1, digest.first_seq - 1)} between ${digestName(last, previous.where)} and ${name}` });
        } else if (digest.first_seq <= last.last_seq) {
          problems.push({ ...base, kind: 'digest-mismatch', message: `${name} overlaps ${digestName(last, previous.where)}` });
        }
      }
      previous = item;
    }
    if (agedDigests > 0) notes.push(`${key.replace('\u0000', ' ')}: ${agedDigests} digest(s) attest records that aged out, not recomputed`);
    attested.set(key, covered);
  }
  // Records past the last digest: producer-lineage.ts judges them by how their producer ended.
  return attested;
}

/** Checks one digest against the records; returns how many of its records are present. */
function checkDigestRange(
  chain: Chain | undefined, digest: DigestRecord, name: string, base: Omit<VerificationProblem, 'kind' | 'message'>, problems: VerificationProblem[],
): number {
  const hashes: string[] = [];
  const missing: number[] = [];
  for (let seq = digest.first_seq; seq <= digest.last_seq; seq += 1) {
    const entry = chain?.entries.get(seq);
    if (entry) hashes.push(entry.hash);
    else missing.push(seq);
  }
  if (missing.length > 0) {
    problems.push({ ...base, kind: 'digest-range-missing', message: `${name} attests records that are missing: ${ranges(missing)}` });
    return hashes.length;
  }
  const length = digest.last_seq - digest.first_seq + 1;
  const mismatches: string[] = [];
  if (digest.count !== length) mismatches.push(`count is ${digest.count} but the range holds ${length} records`);
  if (hashes.at(-1) !== digest.last_hash) mismatches.push(`last_hash is ${digest.last_hash} but seq ${digest.last_seq} hashes ${hashes.at(-1) ?? 'nothing'}`);
  const root = digestRootHash(hashes);
  if (root !== digest.root_hash) mismatches.push(`root_hash is ${digest.root_hash} but the records give ${root}`);
  if (mismatches.length > 0) problems.push({ ...base, kind: 'digest-mismatch', message: `${name} does not match its records: ${mismatches.join('; ')}` });
  return hashes.length;
}

// --- reading and naming ----------------------------------------------------------------------

function parseItem(record: unknown): { value: unknown } | { error: string } {
  let value = record;
  if (value instanceof Uint8Array) value = new TextDecoder().decode(value);
  if (typeof value === 'string') {
    const parsed = safeParse(value);
    return parsed === undefined ? { error: `invalid JSON: ${snippet(value)}` } : { value: parsed };
  }
  // Readers hand over a line they could not parse as { unparseable: text }.
  const object = asObject(value);
  if (object && typeof object.unparseable === 'string' && Object.keys(object).length === 1) return { error: `invalid JSON: ${snippet(object.unparseable)}` };
  return { value };
}

function readChainLink(record: unknown): { producer_id: string; stream: string; seq: number; prev_hash: string | null; hash: string } | string {
  const chain = asObject(fieldAt(record, 'unmapped', 'portcullis', 'chain'));
  if (!chain) return 'it has no unmapped.portcullis.chain';
  const producer = asString(chain.producer_id);
  const stream = asString(chain.stream);
  const seq = asNumber(chain.seq);
  const hash = asString(chain.hash);
  const prev = chain.prev_hash;
  if (!producer) return 'its chain has no producer_id';
  if (!stream || !STREAMS.has(stream)) return `its chain names stream ${JSON.stringify(chain.stream)}`;
  if (seq === undefined || !Number.isSafeInteger(seq) || seq < 0) return `its chain seq ${JSON.stringify(chain.seq)} is not a non-negative integer`;
  if (!hash) return 'its chain has no hash';
  if (prev !== null && typeof prev !== 'string') return 'its chain prev_hash is neither a hash nor null';
  return { producer_id: producer, stream, seq, prev_hash: prev, hash };
}

function chainOf(chains: Map<string, Chain>, producerId: string, stream: string): Chain {
  const key = chainKey(producerId, stream);
  let chain = chains.get(key);
  if (!chain) {
    chain = { producerId, stream, entries: new Map(), duplicates: [] };
    chains.set(key, chain);
  }
  return chain;
}

function chainKey(producerId: string, stream: string): string {
  return `${stream}\u0000${producerId}`;
}

function chainName(chain: Chain): string {
  return `${chain.stream} chain of producer ${chain.producerId}`;
}

/** `seq 17 (decision 7c…, decisions.jsonl line 18)` */
function describe(entry: Entry): string {
  const id = entry.id ? `${entry.isDecision ? 'decision' : 'event'} ${entry.id}, ` : '';
  return `seq ${entry.seq} (${id}${entry.where})`;
}

function nameOf(chain: Chain, entry: Entry): string {
  return `${chain.stream} record ${describe(entry)} of producer ${chain.producerId}`;
}

function at(chain: Chain, entry: Entry): Omit<VerificationProblem, 'kind' | 'message'> {
  return {
    where: entry.where,
    producer_id: chain.producerId,
    stream: chain.stream,
    seq: entry.seq,
    ...(entry.isDecision && entry.id ? { decision_id: entry.id } : {}),
  };
}

function digestName(digest: DigestRecord, where: string): string {
  return `digest of ${digest.stream} seq ${digest.first_seq}..${digest.last_seq} by producer ${digest.producer_id} (${where})`;
}

function span(first: number, last: number): string {
  const count = last - first + 1;
  return first === last ? `seq ${first} (1 record)` : `seq ${first}..${last} (${count} records)`;
}

/** "seq 3, 5..9, 12" from ascending seqs. */
function ranges(seqs: readonly number[]): string {
  const parts: string[] = [];
  let start: number | undefined;
  let end = -2;
  for (const seq of seqs) {
    if (start !== undefined && seq === end + 1) {
      end = seq;
      continue;
    }
    if (start !== undefined) parts.push(start === end ? `${start}` : `${start}..${end}`);
    start = seq;
    end = seq;
  }
  if (start !== undefined) parts.push(start === end ? `${start}` : `${start}..${end}`);
  return `seq ${parts.join(', ')}`;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function snippet(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
