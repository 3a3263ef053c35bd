import type { AnyDecisionAnswer } from './decision-contract.ts';
import { clientSafeText } from './refusal-text.ts';

/**
 * Why a command did not run, in words every protocol can express:
 * - `denied`: policy said no;
 * - `unauthenticated`: the caller's token was missing, expired or forged;
 * - `approval-refused`: approval was needed and was denied, expired or does not fit;
 * - `approval-pending`: approval is needed and nobody has decided (yet, or in the time waited);
 * - `cancelled`: the caller gave up while the command was held;
 * - `unavailable`: no decision could be had (PDP down, slow, failing, or refusing this PEP).
 */
export type RefusalKind = 'denied' | 'unauthenticated' | 'approval-refused' | 'approval-pending' | 'cancelled' | 'unavailable';

export interface Refusal {
  readonly kind: RefusalKind;
  /** The first reason code, kebab-case (e.g. `sql-delete-without-where`, `pdp-unreachable`). */
  readonly code: string;
  /** One line for the client: no tokens, no personal data, no control characters. */
  readonly message: string;
  /** The decision to look up in the audit trail (`pep-local-…` when the PDP never answered). */
  readonly decisionId: string;
  readonly approvalId?: string;
  /** Trying the same thing later may work (the PDP comes back, someone approves). */
  readonly retryable: boolean;
  /** What the caller can do about it, when there is something: run the command again once approved. */
  readonly hint?: string;
}

/** Codes of PDP-side outages that it answers as a deny. */
const PDP_OUTAGE_CODES = new Set(['policy-not-loaded', 'policy-error', 'audit-unavailable', 'approvals-unavailable']);
const APPROVAL_REFUSED_CODES = new Set(['approval-denied', 'approval-expired', 'approval-binding-mismatch', 'approval-already-used', 'approval-not-found']);
/** PDP refusals of the request itself (HTTP 4xx): this command cannot be decided, others may. */
const UNDECIDABLE_REQUEST_CODES = new Set(['invalid-request', 'payload-too-large', 'malformed-json']);

const LEADS: Readonly<Record<RefusalKind, string>> = {
  denied: 'denied by policy',
  unauthenticated: 'the credential was not accepted',
  'approval-refused': 'not approved',
  'approval-pending': 'held for approval',
  cancelled: 'cancelled while held for approval',
  unavailable: 'no policy decision could be had, so nothing was run',
};

/** The refusal an answer means, or `undefined` for an allow. */
export function refusalFor(answer: AnyDecisionAnswer): Refusal | undefined {
  if (answer.effect === 'allow') return undefined;
  const kind = refusalKind(answer);
  const code = answer.reasons[0]?.code ?? (answer.effect === 'approval_required' ? 'approval-required' : 'no-reason');
  const reasons = answer.reasons.slice(0, 3).map((reason) => `${reason.code}: ${reason.message}`).join('; ');
  const approvalId = answer.approval?.id;
  const message = clientSafeText(
    `portcullis: ${LEADS[kind]}${reasons ? ` (${reasons})` : ''}${approvalId ? ` [approval ${approvalId}]` : ''} [decision ${answer.decision_id}]`,
  );
  return {
    kind,
    code,
    message,
    decisionId: answer.decision_id,
    ...(approvalId ? { approvalId } : {}),
    retryable: kind === 'unavailable' || kind === 'approval-pending',
    ...(kind === 'approval-pending' && approvalId ? { hint: rerunHint(approvalId) } : {}),
  };
}

/**
 * A held command's approval is found by its binding (principal, resource, exact action): the same
 * command sent again once approved runs, once. Said to every caller who stops waiting.
 */
export function rerunHint(approvalId: string): string {
  return clientSafeText(`Run the same command again once approval ${approvalId} is granted; it then runs once.`);
}

function refusalKind(answer: AnyDecisionAnswer): RefusalKind {
  if (answer.effect === 'approval_required') return 'approval-pending';
  const codes = answer.reasons.map((reason) => reason.code);
  if (codes.includes('approval-cancelled')) return 'cancelled';
  if (codes.includes('approval-timeout')) return 'approval-pending';
  if (codes.some((code) => APPROVAL_REFUSED_CODES.has(code))) return 'approval-refused';
  if (answer.source === 'pep') {
    // Made up by the PEP: the PDP was not reached, not readable, or refused the PEP's request.
    return codes.some((code) => UNDECIDABLE_REQUEST_CODES.has(code)) ? 'denied' : 'unavailable';
  }
  if (codes.some((code) => PDP_OUTAGE_CODES.has(code))) return 'unavailable';
  if (!answer.principal.authenticated) return 'unauthenticated';
  return 'denied';
}
