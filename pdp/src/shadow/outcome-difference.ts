import type { ShadowChange } from '../audit/events/shadow-audit-event.ts';
import { canonicalJson } from '../audit/trail/canonical-json.ts';
import type { PolicyOutcome } from '../decisions/policy-result.ts';

/**
 * What changes between the live policy's outcome and the shadow's for the same input: the
 * effect; the reasons (by code: a reworded message is no change of policy); the masks; the other
 * obligations; the approval an approval_required asks for. Empty: the shadow agrees. Masks and
 * reason codes compare as sets, since policy builds them as sets and their order means nothing.
 */
export function outcomeDifference(live: PolicyOutcome, shadow: PolicyOutcome): ShadowChange[] {
  const changes: ShadowChange[] = [];
  if (live.effect !== shadow.effect) changes.push('effect');
  if (!sameSet(live.reasons.map((reason) => reason.code), shadow.reasons.map((reason) => reason.code))) changes.push('reasons');
  const { mask: liveMasks = [], ...liveOthers } = live.obligations;
  const { mask: shadowMasks = [], ...shadowOthers } = shadow.obligations;
  if (!sameSet(liveMasks.map(canonicalJson), shadowMasks.map(canonicalJson))) changes.push('masks');
  if (canonicalJson(liveOthers) !== canonicalJson(shadowOthers)) changes.push('obligations');
  if (live.effect === 'approval_required' && shadow.effect === 'approval_required' && canonicalJson(live.approval ?? {}) !== canonicalJson(shadow.approval ?? {})) {
    changes.push('approval');
  }
  return changes;
}

function sameSet(left: readonly string[], right: readonly string[]): boolean {
  const a = new Set(left);
  const b = new Set(right);
  return a.size === b.size && [...a].every((item) => b.has(item));
}
