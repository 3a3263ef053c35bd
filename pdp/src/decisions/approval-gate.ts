import type { ApprovalBroker } from '../approvals/approval-broker.ts';
import type { ApprovalRecord } from '../approvals/approval-store.ts';
import { ApprovalStoreUnavailableError } from '../approvals/approval-store-unavailable-error.ts';
import type { ApprovalV1, DecisionRequestV1 } from '@portcullis/contract';
import type { EnrichedAction } from '../enrichment/action-enricher.ts';
import type { VerifiedPrincipal } from '../identity/token-verifier.ts';
import { denied, type PolicyOutcome } from './policy-result.ts';

export interface GateContext {
  readonly decisionId: string;
  readonly request: DecisionRequestV1;
  readonly principal: VerifiedPrincipal;
  readonly action: EnrichedAction;
  /** The sent text's keyed digest when the action holds it with secrets withheld (approval-broker.ts). */
  readonly withheldTextMac?: string;
}

/**
 * Turns policy's approval_required into what the caller can act on: an allow that consumes the
 * approval granted for exactly this command (presented by its id, or found by its binding when
 * the same principal sends the same command to the same resource again), else a new pending
 * approval (or the one already pending). The approval store being away makes it a deny, never an allow.
 */
export async function settleApproval(
  broker: ApprovalBroker,
  context: GateContext,
  outcome: PolicyOutcome,
): Promise<{ outcome: PolicyOutcome; approval?: ApprovalV1 }> {
  if (outcome.effect !== 'approval_required' || outcome.approval === undefined) return { outcome };
  try {
    const presented = context.request.approval_id;
    // The PEP asks again with the values the approval is to be bound to: no card for this ask.
    if (presented === undefined && context.request.defer_approval === true) return { outcome };
    if (presented === undefined) {
      const binding = broker.binding(context, outcome.approval);
      // A re-run of a command whose approval was granted (a client that timed out, or cannot
      // wait) finds it by its binding and uses it, once; a window approval is presented by id.
      const granted = outcome.approval.window_seconds === undefined ? await broker.consumeGranted(binding) : undefined;
      if (granted?.ok) return grantedBy(broker, granted.record, outcome);
      const requested = await broker.request({ ...context, requirement: outcome.approval, reasons: outcome.reasons, binding });
      if (!requested.opened) {
        return {
          outcome: denied('approvals-limit', `${context.principal.sub} already has ${requested.pending} approvals pending (at most ${requested.limit}); wait for them to be answered or expire`),
        };
      }
      return { outcome, approval: requested.approval };
    }
    const result = await broker.present(presented, broker.binding(context, outcome.approval));
    if (result.ok) return grantedBy(broker, result.record, outcome);
    const current = await broker.get(presented);
    const refusal = refusalFor(result.code, current?.status);
    return { outcome: denied(refusal.code, `${refusal.message} (approval ${presented})`), ...(current ? { approval: broker.view(current) } : {}) };
  } catch (error) {
    if (!(error instanceof ApprovalStoreUnavailableError)) throw error;
    return { outcome: denied('approvals-unavailable', 'the approval store cannot be reached, so a command that needs approval is denied') };
  }
}

/** The allow a consumed approval turns policy's approval_required into. */
function grantedBy(broker: ApprovalBroker, record: ApprovalRecord, outcome: PolicyOutcome): { outcome: PolicyOutcome; approval: ApprovalV1 } {
  const approvers = record.decisions.filter((decision) => decision.verdict === 'approve').map((decision) => decision.approver);
  return {
    outcome: {
      effect: 'allow',
      reasons: [{ code: 'approval-granted', message: `approved by ${approvers.join(', ')}` }, ...outcome.reasons],
      obligations: outcome.obligations,
    },
    approval: broker.view(record),
  };
}

function refusalFor(code: string, status: string | undefined): { code: string; message: string } {
  if (code === 'not-found') return { code: 'approval-not-found', message: 'no such approval' };
  if (code === 'expired') return { code: 'approval-expired', message: 'the approval expired before it was used' };
  if (code === 'binding-mismatch') return { code: 'approval-binding-mismatch', message: 'the approval was granted for another command, principal or resource' };
  switch (status) {
    case 'pending':
      return { code: 'approval-pending', message: 'the approval is still waiting for approvers' };
    case 'denied':
      return { code: 'approval-denied', message: 'an approver denied the request' };
    case 'expired':
      return { code: 'approval-expired', message: 'the approval expired before it was used' };
    case 'executed':
      return { code: 'approval-already-used', message: 'the approval was already used; each approval allows one command' };
    default:
      return { code: 'approval-refused', message: 'the approval cannot be used' };
  }
}
