import type { EffectV1, ObligationsV1, ReasonV1 } from '@portcullis/contract';
import { asObject } from '../audit/json-fields.ts';
import { decisionRecordOf, UnreplayableRecordError } from './decision-record.ts';
import { answerMismatch } from './recorded-answer-check.ts';

/** An outcome of `portcullis/decision` as replay compares it. */
export interface ReplayOutcome {
  readonly effect: EffectV1;
  readonly reasons: readonly ReasonV1[];
  readonly obligations: ObligationsV1;
  /** The approval policy requires, when its effect is approval_required. */
  readonly approval?: object;
}

const EFFECTS: ReadonlySet<unknown> = new Set(['allow', 'deny', 'approval_required']);

/**
 * Policy's own outcome as the record states it: the answer, except where `policy_outcome` says
 * policy said otherwise (an approval settled it, an unverified caller was denied); that member
 * holds only what differs from the answer (audit/events/decision-audit-event.ts). An answer that
 * is not one the PDP gives for the policy outcome beside it cannot be re-verified: replaying the
 * policy outcome alone would vouch for an answer nobody checked (recorded-answer-check.ts).
 */
export function recordedPolicyOutcome(record: unknown): ReplayOutcome {
  const decision = decisionRecordOf(record);
  if (!decision) throw new UnreplayableRecordError('not a decision record');
  const { body } = decision;
  const policy = body.policy_outcome === undefined ? {} : asObject(body.policy_outcome);
  const invalid = (member: string): never => {
    throw new UnreplayableRecordError(`decision ${decision.decisionId} has no valid ${member}`);
  };
  if (!policy) return invalid('policy_outcome');
  const mismatch = body.policy_outcome === undefined ? undefined : answerMismatch(body, policy);
  if (mismatch !== undefined) throw new UnreplayableRecordError(`decision ${decision.decisionId}: its answer is not policy's: ${mismatch}`);
  const effect = policy.effect ?? body.effect;
  if (!EFFECTS.has(effect)) invalid('effect');
  const reasons = policy.reasons ?? body.reasons;
  if (!Array.isArray(reasons)) invalid('reasons');
  const obligations = asObject(policy.obligations ?? body.obligations) ?? invalid('obligations');
  const approval = asObject(policy.approval_requirement ?? body.approval_requirement);
  return {
    effect: effect as EffectV1,
    reasons: reasons as ReasonV1[],
    obligations: obligations as ObligationsV1,
    ...(effect === 'approval_required' && approval ? { approval } : {}),
  };
}
