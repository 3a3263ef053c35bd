import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '../audit-event.ts';

/** The record's event name: what verify and replay look for on the decisions stream. */
export const BUNDLE_ACTIVATED_EVENT = 'bundle.activated';

/** `live`: the bundle that answers from now on; `shadow`: the candidate evaluated beside it, answering nothing. */
export type BundleRole = 'live' | 'shadow';

/**
 * What the signature check proved. `verified`: by the configured key (its id when the token
 * names one, and its fingerprint); `not-checked`: the bundle carries a signature but no key is
 * configured; `unsigned`: no signature and no key.
 */
export type BundleSignatureStatus =
  | { readonly status: 'verified'; readonly key_id: string | null; readonly key_sha256: string; readonly algorithm: string }
  | { readonly status: 'not-checked' }
  | { readonly status: 'unsigned' };

export interface BundleActivationAuditInput {
  readonly role: BundleRole;
  readonly revision: string;
  /** `sha256:<hex>` of the exact archive bytes: what an archived bundle must hash to for replay to use it. */
  readonly digest: string;
  readonly sizeBytes: number;
  readonly previousRevision: string | null;
  /** Where the bundle came from: `location` never holds credentials (a URL keeps no user, password or query values). */
  readonly source: { readonly kind: string; readonly location: string };
  readonly signature: BundleSignatureStatus;
  /** The PDP host that activated it. */
  readonly host: string;
}

/**
 * The record that a bundle was activated, written to the decisions stream and made durable
 * before the bundle answers: every decision naming a revision follows, in its producer's chain,
 * the activation that attests the revision's exact bytes (docs/audit-events.md).
 */
export function buildBundleActivationEvent(input: BundleActivationAuditInput): AuditEvent {
  return {
    stream: 'decisions',
    key: `bundle/${input.role}`,
    body: {
      event: BUNDLE_ACTIVATED_EVENT,
      schema_version: 1,
      event_id: randomUUID(),
      time: new Date().toISOString(),
      role: input.role,
      revision: input.revision,
      digest: input.digest,
      size_bytes: input.sizeBytes,
      previous_revision: input.previousRevision,
      source: { kind: input.source.kind, location: input.source.location },
      signature: input.signature,
      host: input.host,
    },
  };
}
