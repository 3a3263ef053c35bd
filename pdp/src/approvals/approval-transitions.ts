// The approval rules as pure functions over a record, so the in-memory and the Redis store
// apply exactly the same rules; each store only makes the read-apply-write atomic.
import { bindingsMatch } from './approval-binding.ts';
import type {
  ApprovalCreateInput,
  ApprovalEventType,
  ApprovalRecord,
  ApprovalVote,
  PrincipalKind,
  TransitionFailureCode,
  TransitionResult,
} from './approval-store.ts';

/**
 * What a transition did: its answer, and the record to write with its event when it changed one.
 * `validUntilMs`: the transition holds only before this instant (a vote before expiry, a use
 * before the approval or its window ends); a store whose write may land later than the moment
 * the rules were applied (Redis) checks it again, atomically, with the clock that set it.
 */
export interface Transition {
  result: TransitionResult;
  change?: { record: ApprovalRecord; event: ApprovalEventType; validUntilMs?: number };
}

/** Who may vote when policy names nobody: humans only. */
export const DEFAULT_APPROVER_KINDS: readonly PrincipalKind[] = ['human'];

/** Builds a new pending record; throws a RangeError for input policy should never produce. */
export function newApprovalRecord(id: string, input: ApprovalCreateInput, now: Date): ApprovalRecord {
  if (!Number.isInteger(input.quorum) || input.quorum < 1) throw new RangeError(`approval quorum must be an integer of at least 1, got ${input.quorum}`);
  if (!(Number.isFinite(input.ttlSeconds) && input.ttlSeconds > 0)) throw new RangeError(`approval ttlSeconds must be positive, got ${input.ttlSeconds}`);
  if (input.binding === '') throw new RangeError('approval binding must not be empty');
  if (input.requester.sub === '') throw new RangeError('approval requester sub must not be empty');
  return {
    id,
    status: 'pending',
    requester: { ...input.requester },
    resource: { ...input.resource },
    decision_id: input.decision_id,
    action: structuredClone(input.action),
    action_summary: input.action_summary,
    ...(input.action_display === undefined ? {} : { action_display: structuredClone(input.action_display) }),
    ...(input.session === undefined ? {} : { session: { ...input.session } }),
    binding: input.binding,
    reasons: input.reasons.map((reason) => ({ ...reason })),
    ...(input.window_seconds === undefined ? {} : { window_seconds: input.window_seconds }),
    quorum: input.quorum,
    approver_roles: [...input.approver_roles],
    approver_kinds: [...(input.approver_kinds ?? DEFAULT_APPROVER_KINDS)],
    decisions: [],
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + Math.round(input.ttlSeconds * 1000)).toISOString(),
    version: 1,
  };
}

/** Until when a record matters: its expiry, or the end of its window when that is later. */
export function relevantUntil(record: ApprovalRecord): number {
  const expires = Date.parse(record.expires_at);
  return record.window_ends_at === undefined ? expires : Math.max(expires, Date.parse(record.window_ends_at));
}

export function isPastExpiry(record: ApprovalRecord, now: Date): boolean {
  return now.getTime() >= Date.parse(record.expires_at);
}

export function applyVote(record: ApprovalRecord | undefined, vote: ApprovalVote, now: Date): Transition {
  if (record === undefined) return refuse('not-found', 'no such approval');
  if (record.status === 'expired') return refuse('expired', `approval ${record.id} expired at ${record.expires_at}`);
  if (record.status !== 'pending') return refuse('not-pending', `approval ${record.id} is already ${record.status}`);
  if (isPastExpiry(record, now)) {
    const expired = expire(record, now);
    return { result: refusal('expired', `approval ${record.id} expired at ${record.expires_at}`), change: { record: expired, event: 'resolved' } };
  }
  // By subject: the same principal with another token or client is still the requester.
  if (vote.approver === record.requester.sub) return refuse('self-approval', 'the requester cannot vote on their own request');
  const kinds = record.approver_kinds ?? DEFAULT_APPROVER_KINDS;
  if (!kinds.includes(vote.approverKind)) {
    return refuse('kind-not-allowed', `a principal of kind ${vote.approverKind} may not vote on this approval; allowed: ${kinds.join(', ') || '(none)'}`);
  }
  if (!vote.approverRoles.some((role) => record.approver_roles.includes(role))) {
    return refuse('role-not-allowed', `approving needs one of the roles: ${record.approver_roles.join(', ') || '(none)'}`);
  }
  if (record.decisions.some((decision) => decision.approver === vote.approver)) {
    return refuse('already-voted', `${vote.approver} has already voted on approval ${record.id}`);
  }
  if (vote.verdict === 'deny' && vote.reason.trim() === '') return refuse('reason-required', 'a deny needs a reason');

  const at = now.toISOString();
  const decision = { approver: vote.approver, ...(vote.approverIss === undefined ? {} : { iss: vote.approverIss }), kind: vote.approverKind, verdict: vote.verdict, reason: vote.reason, at };
  const decisions = [...record.decisions, decision];
  const approvals = decisions.filter((decision) => decision.verdict === 'approve').length;
  const status = vote.verdict === 'deny' ? 'denied' : approvals >= record.quorum ? 'approved' : 'pending';
  const next: ApprovalRecord = { ...record, decisions, status, version: record.version + 1 };
  if (status !== 'pending') next.resolved_at = at;
  if (status === 'approved' && record.window_seconds !== undefined) {
    next.window_ends_at = new Date(now.getTime() + record.window_seconds * 1000).toISOString();
  }
  return { result: { ok: true, record: next }, change: { record: next, event: status === 'pending' ? 'updated' : 'resolved', validUntilMs: Date.parse(record.expires_at) } };
}

/**
 * A per-command approval is usable until its expires_at (an approval nobody used in time is
 * stale: the approver judged the world as it was then); a window approval until its window ends.
 */
export function usableUntil(record: ApprovalRecord): number {
  return record.window_ends_at === undefined ? Date.parse(record.expires_at) : Date.parse(record.window_ends_at);
}

export function applyConsume(record: ApprovalRecord | undefined, binding: string, now: Date): Transition {
  if (record === undefined) return refuse('not-found', 'no such approval');
  if (record.status === 'expired') return refuse('expired', `approval ${record.id} expired at ${record.expires_at}`);
  if (record.status !== 'approved') return refuse('not-pending', `approval ${record.id} is ${record.status}, not approved`);
  if (!bindingsMatch(record.binding, binding)) return refuse('binding-mismatch', `approval ${record.id} was given for another command`);
  const validUntilMs = usableUntil(record);
  if (!(now.getTime() < validUntilMs)) return refuse('expired', expiredMessage(record));
  const uses = (record.uses ?? 0) + 1;
  const status = record.window_ends_at === undefined ? 'executed' : 'approved';
  const next: ApprovalRecord = { ...record, status, uses, version: record.version + 1 };
  return { result: { ok: true, record: next }, change: { record: next, event: 'updated', validUntilMs } };
}

/**
 * Whether a record is a per-command approval granted for this binding and not used yet: what a
 * re-run of the same command finds. A window approval is only ever presented by its id.
 */
export function isGrantedFor(record: ApprovalRecord, binding: string): boolean {
  return isGranted(record) && bindingsMatch(record.binding, binding);
}

/** Approved for one command and not used yet (its usability in time is applyConsume's to judge). */
export function isGranted(record: ApprovalRecord): boolean {
  return record.status === 'approved' && record.window_seconds === undefined;
}

/** The refusal of a write that reached the store at or after its transition's deadline. */
export function lateRefusal(record: ApprovalRecord): TransitionResult {
  return refusal('expired', expiredMessage(record));
}

function expiredMessage(record: ApprovalRecord): string {
  return record.window_ends_at === undefined
    ? `approval ${record.id} expired at ${record.expires_at}`
    : `the window of approval ${record.id} ended at ${record.window_ends_at}`;
}

/** A pending record past its expiry becomes expired; anything else is left alone. */
export function applyExpiry(record: ApprovalRecord | undefined, now: Date): ApprovalRecord | undefined {
  if (record === undefined || record.status !== 'pending' || !isPastExpiry(record, now)) return undefined;
  return expire(record, now);
}

function expire(record: ApprovalRecord, now: Date): ApprovalRecord {
  return { ...record, status: 'expired', resolved_at: now.toISOString(), version: record.version + 1 };
}

function refusal(code: TransitionFailureCode, message: string): TransitionResult {
  return { ok: false, code, message };
}

function refuse(code: TransitionFailureCode, message: string): Transition {
  return { result: refusal(code, message) };
}
