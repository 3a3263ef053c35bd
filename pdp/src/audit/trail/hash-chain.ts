import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AuditStream } from '../audit-event.ts';
import { canonicalJson } from './canonical-json.ts';
import { asObject } from '../json-fields.ts';
import type { ChainLink, OcsfRecord, PortcullisFields } from '../ocsf/ocsf-record.ts';

/** A record that carries its chain link. */
export type LinkedRecord = OcsfRecord & { readonly unmapped: { readonly portcullis: PortcullisFields & { readonly chain: ChainLink } } };

/** `sha256:<hex>` of a UTF-8 text: the form of every hash in records and digests. */
export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

/**
 * The hash of a record: sha256 over its canonical JSON with `unmapped.portcullis.chain.hash`
 * left out. Works on any parsed JSON, so a verifier recomputes exactly what the producer wrote.
 */
export function recordHash(record: unknown): string {
  const unmapped = asObject(asObject(record)?.unmapped);
  const portcullis = asObject(unmapped?.portcullis);
  const chain = asObject(portcullis?.chain);
  if (!chain || !('hash' in chain)) return sha256(canonicalJson(record));
  // Copy only the path down to the hash; canonical JSON leaves the undefined member out.
  return sha256(canonicalJson({
    ...(record as object),
    unmapped: { ...unmapped, portcullis: { ...portcullis, chain: { ...chain, hash: undefined } } },
  }));
}

/**
 * A producer id for this process: `pdp-<host label>-<uuid>`. A fresh one per boot, so a restarted
 * producer starts new chains at seq 0 instead of having to recover where the old one stopped.
 */
export function newProducerId(hostLabel: string): string {
  const label = hostLabel.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'host';
  return `pdp-${label}-${randomUUID()}`;
}

/**
 * The hash chains of one producer, one per stream: each record gets the next seq (from 0,
 * without gaps) and the hash of the record before it. Linking is synchronous, so the order of
 * link() calls is the chain order.
 */
export class HashChain {
  private readonly heads = new Map<AuditStream, { nextSeq: number; lastHash: string | null }>();
  private readonly placeholder = `hash-placeholder-${randomBytes(16).toString('hex')}`;
  private readonly placeholderMember = `"hash":"${this.placeholder}",`;

  constructor(readonly producerId: string) {
    if (typeof producerId !== 'string' || producerId.trim() === '') throw new TypeError('HashChain: producerId must be a non-empty string');
  }

  /** A copy of `record` with `unmapped.portcullis.chain` set; `record` itself is left alone. */
  link(stream: AuditStream, record: OcsfRecord): LinkedRecord {
    return this.linkLine(stream, record).record;
  }

  /**
   * link(), and the record's line: its canonical JSON, hash included. The canonical text is
   * written once, with a placeholder for the hash that no record content can hold (random per
   * chain): the hash is over that text without the hash member, the line has the hash in its place.
   */
  linkLine(stream: AuditStream, record: OcsfRecord): { readonly record: LinkedRecord; readonly line: string } {
    if (record.unmapped.portcullis.chain !== undefined) throw new TypeError('HashChain: the record is already linked');
    const head = this.heads.get(stream) ?? { nextSeq: 0, lastHash: null };
    // `hash` sorts first among the link's members, so its member is always followed by a comma.
    const chain = { producer_id: this.producerId, stream, seq: head.nextSeq, prev_hash: head.lastHash, hash: this.placeholder };
    const linked = { ...record, unmapped: { ...record.unmapped, portcullis: { ...record.unmapped.portcullis, chain } } };
    const text = canonicalJson(linked);
    const at = text.indexOf(this.placeholderMember);
    if (at === -1) throw new Error('HashChain: the link is missing from the canonical record');
    const before = text.slice(0, at);
    const after = text.slice(at + this.placeholderMember.length);
    // Hashed in two parts: no third copy of the text just to join them.
    const hash = `sha256:${createHash('sha256').update(before, 'utf8').update(after, 'utf8').digest('hex')}`;
    chain.hash = hash;
    this.heads.set(stream, { nextSeq: head.nextSeq + 1, lastHash: hash });
    return { record: linked as LinkedRecord, line: `${before}"hash":"${hash}",${after}` };
  }

  /** Where a stream's chain stands: the seq the next record gets and the hash it will link to. */
  head(stream: AuditStream): { readonly nextSeq: number; readonly lastHash: string | null } {
    return { ...(this.heads.get(stream) ?? { nextSeq: 0, lastHash: null }) };
  }
}
