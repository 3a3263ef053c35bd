import { canonicalJson } from '../audit/trail/canonical-json.ts';
import { asArray, asObject, asString, type JsonObject } from '../audit/json-fields.ts';

/**
 * The codes of the denies the PDP answers a policy's approval_required with when no approval
 * lets it through (decisions/approval-gate.ts): the approval store away, too many pending, an
 * approval presented that cannot be used.
 */
const APPROVAL_REFUSALS: ReadonlySet<string> = new Set([
  'approvals-limit',
  'approvals-unavailable',
  'approval-not-found',
  'approval-expired',
  'approval-binding-mismatch',
  'approval-pending',
  'approval-denied',
  'approval-already-used',
  'approval-refused',
]);

/** The deny the PDP answers with, whatever policy said: no masks, recorded (decisions/policy-result.ts `denied`). */
const DENY_OBLIGATIONS = canonicalJson({ mask: [], record: true });

/**
 * Why a record's answer is not one the PDP gives for the policy outcome it records beside it,
 * or undefined when it is. A replay compares policy with policy (`policy_outcome`), so without
 * this an answer rewritten together with a `policy_outcome` naming the old one — an allow over
 * a deny, masks dropped from an allow — would re-verify. The PDP changes policy's outcome in two
 * ways only (decisions/decision-service.ts): an unverified caller is denied, and an
 * approval_required is settled (an allow consuming a granted approval, with policy's own
 * obligations, or a deny saying why no approval could be used).
 */
export function answerMismatch(body: JsonObject, policy: JsonObject): string | undefined {
  const answer = { effect: body.effect, reasons: asArray(body.reasons), obligations: body.obligations };
  const policyObligations = policy.obligations ?? body.obligations;
  const policyReasons = policy.reasons ?? body.reasons;
  const firstCode = asString(asObject(answer.reasons[0])?.code);
  const principal = asObject(body.principal);
  const denyObligations = canonicalJson(answer.obligations ?? null) === DENY_OBLIGATIONS;

  // An unverified caller: whatever policy said, a deny giving the token's failure.
  if (principal?.authenticated === false) {
    if (policy.effect === 'deny') return 'policy denied an unverified caller, yet policy_outcome says the answer was not policy\'s own';
    if (answer.effect === 'deny' && answer.reasons.length === 1 && firstCode !== undefined && firstCode === asString(principal.error) && denyObligations) return undefined;
    return `policy said ${String(policy.effect)} for an unverified caller: the answer must be a deny with reason ${String(principal.error)} and no masks, not ${String(answer.effect)} (${firstCode ?? 'no reason'})`;
  }
  if (policy.effect !== 'approval_required') return `policy said ${String(policy.effect)}, yet the answer is ${String(answer.effect)}: the PDP only changes policy's answer for an unverified caller or an approval`;
  if (answer.effect === 'allow') {
    if (!asString(asObject(body.approval)?.id)) return 'an allow over policy\'s approval_required names no approval it consumed';
    if (firstCode !== 'approval-granted') return 'an allow over policy\'s approval_required does not begin with the approval-granted reason';
    if (canonicalJson(answer.reasons.slice(1)) !== canonicalJson(policyReasons ?? null)) return 'an allow over policy\'s approval_required does not carry policy\'s reasons';
    if (canonicalJson(answer.obligations ?? null) !== canonicalJson(policyObligations ?? null)) return 'an allow over policy\'s approval_required does not carry policy\'s obligations (masks)';
    return undefined;
  }
  if (answer.effect === 'deny' && answer.reasons.length === 1 && firstCode !== undefined && APPROVAL_REFUSALS.has(firstCode) && denyObligations) return undefined;
  return `policy said approval_required, yet the answer is ${String(answer.effect)} (${firstCode ?? 'no reason'}), which is not how the PDP settles an approval`;
}
