import { asString } from '../json-fields.ts';
import { BUNDLE_ACTIVATED_EVENT } from '../events/bundle-activation-audit-event.ts';
import type { VerificationProblem } from './verification-problem.ts';
import { auditBodyOf } from '../ocsf/portcullis-body.ts';

/** What a decisions-stream record says about policy: the revision a decision names, or a live bundle's activation. */
export type PolicyMention =
  | { readonly kind: 'decision'; readonly revision: string }
  | { readonly kind: 'activation'; readonly revision: string };

/** The mention a record makes, or undefined (a decision without policy, a data query, a shadow activation). */
export function policyMentionOf(record: unknown): PolicyMention | undefined {
  const body = auditBodyOf(record);
  if (!body) return undefined;
  if (body.event === 'decision') {
    const revision = asString(body.policy_revision);
    return revision === undefined ? undefined : { kind: 'decision', revision };
  }
  if (body.event === BUNDLE_ACTIVATED_EVENT && body.role === 'live') {
    const revision = asString(body.revision);
    return revision === undefined ? undefined : { kind: 'activation', revision };
  }
  return undefined;
}

export interface AttestedEntry {
  readonly seq: number;
  readonly where: string;
  readonly id: string | undefined;
  /** Whether the record recomputes to its hash: an altered activation attests nothing. */
  readonly intact: boolean;
  readonly policy?: PolicyMention;
}

/**
 * Every decision of one producer's decisions chain names a revision whose live activation the
 * same chain recorded before it: the PDP writes that record durably before the bundle answers,
 * so a decision without one was decided by a bundle the trail does not vouch for. When the
 * chain's head aged out (verified from a retention anchor, on a stream whose retention is
 * limited), the revisions decided before the first activation still held were activated in the
 * part that aged out: they are accepted, and said so in a note. A stream kept for ever loses no
 * head, so there every revision needs its activation. One problem per revision, naming its first
 * decision and how many there are.
 */
export function checkPolicyAttestation(
  chain: { readonly producerId: string; readonly stream: string },
  entries: readonly AttestedEntry[],
  headAgedOut: boolean,
  problems: VerificationProblem[],
  notes: string[],
): void {
  if (chain.stream !== 'decisions') return;
  const activated = new Set<string>();
  const inherited = new Set<string>();
  const unattested = new Map<string, { first: AttestedEntry; count: number }>();
  let activationHeld = false;
  for (const entry of entries) {
    const mention = entry.policy;
    if (!mention) continue;
    if (mention.kind === 'activation') {
      if (entry.intact) activated.add(mention.revision);
      activationHeld = true;
      continue;
    }
    if (activated.has(mention.revision) || inherited.has(mention.revision)) continue;
    if (headAgedOut && !activationHeld) {
      inherited.add(mention.revision);
      continue;
    }
    const known = unattested.get(mention.revision);
    if (known) known.count += 1;
    else unattested.set(mention.revision, { first: entry, count: 1 });
  }
  for (const revision of inherited) {
    notes.push(`decisions chain of producer ${chain.producerId}: revision ${revision} was active when the held records begin; its activation record aged out with the chain's head`);
  }
  for (const [revision, { first, count }] of unattested) {
    problems.push({
      kind: 'unattested-revision',
      where: first.where,
      producer_id: chain.producerId,
      stream: chain.stream,
      seq: first.seq,
      ...(first.id ? { decision_id: first.id } : {}),
      message: `policy revision ${revision} has no ${BUNDLE_ACTIVATED_EVENT} record in the decisions chain of producer ${chain.producerId} before decision ${first.id ?? '?'} (seq ${first.seq}, ${first.where})${count > 1 ? ` and ${count - 1} later decision(s) of that revision` : ''}: the trail does not vouch for the bundle that decided them`,
    });
  }
}
