import { maskTargetV1Validator, reasonV1Validator, type EffectV1, type MaskTargetV1, type ObligationsV1, type ReasonV1 } from '@portcullis/contract';
import type { ApprovalRequirement } from '../approvals/approval-requirement.ts';

export type { ApprovalRequirement } from '../approvals/approval-requirement.ts';

export interface PolicyOutcome {
  effect: EffectV1;
  reasons: ReasonV1[];
  obligations: ObligationsV1;
  approval?: ApprovalRequirement;
  /** Policy's opt-in: this allow may stand for same-shape statements this long (see decision-reuse.ts). */
  reuseSeconds?: number;
}

const EFFECTS: ReadonlySet<string> = new Set(['allow', 'deny', 'approval_required']);

/**
 * Reads the value of `portcullis/decision` defensively: a policy bug must never widen access,
 * so anything malformed or undefined becomes a deny that says why.
 */
export function readPolicyOutcome(value: unknown): PolicyOutcome {
  if (typeof value !== 'object' || value === null) {
    return denied('policy-undefined', 'the policy returned no decision for this input');
  }
  const record = value as Record<string, unknown>;
  if (typeof record.effect !== 'string' || !EFFECTS.has(record.effect)) {
    return denied('policy-malformed-decision', 'the policy returned a decision without a valid effect');
  }
  const reasons = Array.isArray(record.reasons) ? record.reasons.filter(reasonV1Validator.check).map(({ code, message }: ReasonV1) => ({ code, message })) : [];
  const rawObligations = (typeof record.obligations === 'object' && record.obligations !== null ? record.obligations : {}) as Record<string, unknown>;
  const mask = Array.isArray(rawObligations.mask) ? rawObligations.mask.map(readMask).filter((mask) => mask !== undefined) : [];
  const obligations: ObligationsV1 = { ...rawObligations, mask, record: rawObligations.record !== false };
  // A list with entries dropped as malformed no longer names every sensitive column.
  if (obligations.mask_complete !== undefined && (!Array.isArray(rawObligations.mask) || mask.length !== rawObligations.mask.length)) obligations.mask_complete = false;
  // Names only: anything else in the list is dropped (a call to a tool left visible is still decided).
  if (obligations.hidden_tools !== undefined) {
    if (Array.isArray(obligations.hidden_tools)) obligations.hidden_tools = obligations.hidden_tools.filter((name): name is string => typeof name === 'string');
    else delete obligations.hidden_tools;
  }
  const outcome: PolicyOutcome = { effect: record.effect as EffectV1, reasons, obligations };
  if (outcome.effect === 'approval_required') outcome.approval = readApproval(record.approval);
  if (outcome.effect === 'allow' && typeof record.reuse_seconds === 'number' && Number.isFinite(record.reuse_seconds) && record.reuse_seconds > 0) {
    outcome.reuseSeconds = record.reuse_seconds;
  }
  return outcome;
}

export function denied(code: string, message: string): PolicyOutcome {
  return { effect: 'deny', reasons: [{ code, message }], obligations: { mask: [], record: true } };
}

function readApproval(value: unknown): ApprovalRequirement {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const quorum = typeof record.quorum === 'number' && Number.isInteger(record.quorum) && record.quorum >= 1 ? record.quorum : 1;
  const roles = Array.isArray(record.approver_roles) ? record.approver_roles.filter((role): role is string => typeof role === 'string') : [];
  const ttl = typeof record.ttl_seconds === 'number' && record.ttl_seconds > 0 ? record.ttl_seconds : 900;
  const window = typeof record.window_seconds === 'number' && record.window_seconds > 0 ? record.window_seconds : undefined;
  // Only kinds the PDP knows; a list naming none of them lets nobody vote rather than anybody.
  const kinds = Array.isArray(record.approver_kinds)
    ? [...new Set(record.approver_kinds.filter((kind): kind is 'agent' | 'human' => kind === 'agent' || kind === 'human'))]
    : undefined;
  return {
    quorum,
    approver_roles: roles.length > 0 ? roles : ['approver'],
    ttl_seconds: ttl,
    ...(window === undefined ? {} : { window_seconds: window }),
    ...(kinds === undefined ? {} : { approver_kinds: kinds }),
  };
}

/** A mask obligation as the contract reads it, or undefined (dropped) when it is not one. */
function readMask(value: unknown): MaskTargetV1 | undefined {
  if (maskTargetV1Validator.check(value)) return maskAsSent(value);
  // A column mask with a malformed extra (computed_strategy) still masks its column: dropping it would unmask it.
  const record = value as Record<string, unknown> | null;
  if (typeof record !== 'object' || record === null || (record.kind !== undefined && record.kind !== 'sql-column')) return undefined;
  const { table, column, strategy } = record;
  return typeof table === 'string' && typeof column === 'string' && typeof strategy === 'string' ? { table, column, strategy } : undefined;
}

/** A mask obligation with the fields its kind names, nothing else of what the policy put in it. */
function maskAsSent(mask: MaskTargetV1): MaskTargetV1 {
  if (mask.kind === 'json-path') return { kind: mask.kind, path: mask.path, strategy: mask.strategy };
  if (mask.kind === 'byte-stream') return { kind: mask.kind, ...(mask.stream === undefined ? {} : { stream: mask.stream }), detectors: [...mask.detectors], strategy: mask.strategy };
  const { table, column, strategy, computed_strategy: computed } = mask;
  return { ...(mask.kind === undefined ? {} : { kind: mask.kind }), table, column, strategy, ...(computed === undefined ? {} : { computed_strategy: computed }) };
}
