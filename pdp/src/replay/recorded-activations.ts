import { asObject, asString } from '../audit/json-fields.ts';
import { BUNDLE_ACTIVATED_EVENT } from '../audit/events/bundle-activation-audit-event.ts';
import { recordHash } from '../audit/trail/hash-chain.ts';
import { auditBodyMember, auditBodyOf } from '../audit/ocsf/portcullis-body.ts';

/** One live activation as the trail records it: the exact bytes and the signature the PDP checked. */
export interface RecordedActivation {
  readonly revision: string;
  readonly digest: string;
  /** `verified` with the key's fingerprint, `not-checked` or `unsigned`, as the PDP recorded it. */
  readonly signature: { readonly status: string; readonly keySha256?: string; readonly keyId?: string };
  readonly where: string;
}

/** Whether a decisions-stream record is a bundle activation (live or shadow): not a decision to replay. */
export function isBundleActivationRecord(record: unknown): boolean {
  return auditBodyMember(record, 'event') === BUNDLE_ACTIVATED_EVENT;
}

/**
 * The live activations read from the decisions stream, by revision. A record that does not
 * recompute to its own chain hash attests nothing (verify names it); a shadow candidate's
 * activation attests no decision. Records are read in any order (Kafka partitions), so replay
 * asks only once the stream is read to its end, or for a revision already seen.
 */
export class RecordedActivations {
  private readonly byRevision = new Map<string, Map<string, RecordedActivation>>();
  /** Activation records read that were altered: named when a revision then has no attestation. */
  readonly altered: string[] = [];

  /** Takes the record when it is a bundle activation (true), else leaves it (false). */
  offer(record: unknown, where: string): boolean {
    if (!isBundleActivationRecord(record)) return false;
    const body = auditBodyOf(record)!;
    if (body.role !== 'live') return true;
    const revision = asString(body.revision);
    const digest = asString(body.digest);
    const chainHash = asString(asObject(body.chain)?.hash);
    if (!revision || !digest || chainHash !== recordHash(record)) {
      this.altered.push(`${where}${revision ? ` (revision ${revision})` : ''}`);
      return true;
    }
    const signature = asObject(body.signature) ?? {};
    const keySha256 = asString(signature.key_sha256);
    const keyId = asString(signature.key_id);
    const activation: RecordedActivation = {
      revision,
      digest,
      signature: { status: asString(signature.status) ?? 'unknown', ...(keySha256 ? { keySha256 } : {}), ...(keyId ? { keyId } : {}) },
      where,
    };
    const digests = this.byRevision.get(revision) ?? new Map<string, RecordedActivation>();
    if (!digests.has(digest)) digests.set(digest, activation);
    this.byRevision.set(revision, digests);
    return true;
  }

  has(revision: string): boolean {
    return this.byRevision.has(revision);
  }

  /** Every distinct set of bytes the trail says the revision was activated with (normally one). */
  of(revision: string): readonly RecordedActivation[] {
    return [...(this.byRevision.get(revision)?.values() ?? [])];
  }
}
