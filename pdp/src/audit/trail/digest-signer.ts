import { join } from 'node:path';
import { CompactSign } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { loadOrCreateSigningKey, SIGNING_KEY_ALGORITHM, type SigningKey } from '../../keys/signing-key-store.ts';
import type { AuditStream } from '../audit-event.ts';
import { DIGEST_TYPE, digestLinkHash, digestPayload, digestRootHash, type DigestFields, type DigestRecord } from './digest-record.ts';
import type { ChainLink } from '../ocsf/ocsf-record.ts';

/** Where the digest signing key lives inside a Portcullis state folder; producer and verifier agree on it. */
export function auditSigningDirectory(stateDir: string): string {
  return join(stateDir, 'audit-signing');
}

export interface DigestSignerOptions {
  /** Folder of the ES256 key pair, e.g. `auditSigningDirectory(stateDir)`; created 0700 on first use. */
  readonly directory: string;
  /** Clock for the digests' `time`; tests pin it. */
  readonly now?: () => Date;
}

interface ChainState {
  readonly producerId: string;
  readonly stream: AuditStream;
  hashes: string[];
  firstSeq: number | undefined;
  nextSeq: number | undefined;
  previousDigest: string | null;
  /** Digests of one chain are made one at a time: each links to the one before. */
  turn: Promise<unknown>;
}

/**
 * Signs digests of hash chains (AU-9, AU-10). Records are appended once linked; each digest
 * attests the records of one producer and stream appended since the previous digest: their
 * seq range, count, last hash and root hash, and links to the previous digest, all signed ES256
 * with the key kept in `directory` (private key 0600, public `jwks.json` for auditors).
 */
export class DigestSigner {
  private readonly chains = new Map<string, ChainState>();
  private key: Promise<SigningKey> | undefined;

  constructor(private readonly options: DigestSignerOptions) {}

  /** Notes a linked record. Throws when its seq does not follow the previous one of its chain. */
  append(record: { readonly unmapped: { readonly portcullis: { readonly chain?: ChainLink } } }): void {
    const chain = record.unmapped.portcullis.chain;
    if (!chain) throw new TypeError('DigestSigner: the record has no chain link');
    const key = `${chain.producer_id}\u0000${chain.stream}`;
    let state = this.chains.get(key);
    if (!state) {
      state = { producerId: chain.producer_id, stream: chain.stream, hashes: [], firstSeq: undefined, nextSeq: undefined, previousDigest: null, turn: Promise.resolve() };
      this.chains.set(key, state);
    }
    if (state.nextSeq !== undefined && chain.seq !== state.nextSeq) {
      throw new RangeError(`DigestSigner: ${chain.stream} of ${chain.producer_id} got seq ${chain.seq} after seq ${state.nextSeq - 1}; a digest covers a contiguous range`);
    }
    if (state.hashes.length === 0) state.firstSeq = chain.seq;
    state.hashes.push(chain.hash);
    state.nextSeq = chain.seq + 1;
  }

  /**
   * The signed digest of `stream`'s records appended since the last digest (up to the moment it
   * is signed), or undefined when there are none. `producerId` may be left out when one producer
   * writes the stream (the usual case: one signer per PDP process). Calls for one chain are
   * served in order; if signing fails the records stay pending for the next digest.
   */
  async digest(stream: AuditStream, producerId?: string): Promise<DigestRecord | undefined> {
    const candidates = [...this.chains.values()].filter((state) => state.stream === stream && (producerId === undefined || state.producerId === producerId));
    if (candidates.length > 1) {
      throw new TypeError(`DigestSigner: several producers write ${stream} (${candidates.map((state) => state.producerId).join(', ')}); name one`);
    }
    const state = candidates[0];
    if (!state) return undefined;
    const result = state.turn.then(() => this.sign(state));
    state.turn = result.catch(() => undefined);
    return await result;
  }

  /** A digest for every producer and stream with new records (the interval tick and shutdown). */
  async digestAll(): Promise<DigestRecord[]> {
    const states = [...this.chains.values()].sort((a, b) => a.stream.localeCompare(b.stream) || a.producerId.localeCompare(b.producerId));
    const digests = await Promise.all(states.map((state) => this.digest(state.stream, state.producerId)));
    return digests.filter((digest): digest is DigestRecord => digest !== undefined);
  }

  /** The public key set auditors verify digests with (also written as `jwks.json`). */
  async publicJwks(): Promise<JSONWebKeySet> {
    return structuredClone((await this.signingKey()).jwks);
  }

  private async sign(state: ChainState): Promise<DigestRecord | undefined> {
    const hashes = state.hashes;
    const firstSeq = state.firstSeq;
    if (hashes.length === 0 || firstSeq === undefined) return undefined;
    // Take the pending hashes now: records appended while we sign belong to the next digest.
    state.hashes = [];
    state.firstSeq = undefined;
    try {
      const fields: DigestFields = {
        type: DIGEST_TYPE,
        producer_id: state.producerId,
        stream: state.stream,
        first_seq: firstSeq,
        last_seq: firstSeq + hashes.length - 1,
        count: hashes.length,
        last_hash: hashes[hashes.length - 1] as string,
        root_hash: digestRootHash(hashes),
        previous_digest: state.previousDigest,
        time: (this.options.now?.() ?? new Date()).toISOString(),
      };
      const { kid, privateKey } = await this.signingKey();
      const signature = await new CompactSign(new TextEncoder().encode(digestPayload(fields)))
        .setProtectedHeader({ alg: SIGNING_KEY_ALGORITHM, kid })
        .sign(privateKey);
      state.previousDigest = digestLinkHash(signature);
      return { ...fields, signature };
    } catch (error) {
      state.hashes = hashes.concat(state.hashes);
      state.firstSeq = firstSeq;
      throw error;
    }
  }

  /** A compact JWS (ES256, kid) over `payload` with the same key: what checkpoints are signed with. */
  async signPayload(payload: string): Promise<string> {
    const { kid, privateKey } = await this.signingKey();
    return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: SIGNING_KEY_ALGORITHM, kid }).sign(privateKey);
  }

  /** Creates (or loads) the key now, so its public JWKS exists before the first digest: verifiers and reports need it from the start. */
  async prepare(): Promise<void> {
    await this.signingKey();
  }

  private signingKey(): Promise<SigningKey> {
    // Retry on the next digest after a failure (e.g. a permissions fix) instead of caching it.
    this.key ??= loadOrCreateSigningKey(this.options.directory, 'audit signing key').catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }
}
