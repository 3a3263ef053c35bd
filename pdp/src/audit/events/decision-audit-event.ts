import type { DecisionRequestV1, DecisionReuseV1, EffectV1, ObligationsV1, ReasonV1 } from '@portcullis/contract';
import type { VerifyResult } from '../../identity/token-verifier.ts';
import type { AuditEvent } from '../audit-event.ts';

/**
 * What the record keeps of policy's outcome. Declared here, not imported, so the audit trail
 * never reaches back into the decision path (decisions/policy-result.ts's outcome has this shape).
 */
export interface AuditedOutcome {
  readonly effect: EffectV1;
  readonly reasons: readonly ReasonV1[];
  readonly obligations: ObligationsV1;
  /** The approval policy requires (quorum, approver roles, time to live …), kept as policy gave it. */
  readonly approval?: object;
}

/** The enriched action as policy saw it (docs/policy-input.md), recorded whole. */
export interface AuditedAction {
  readonly type: string;
}

export interface DecisionAuditInput {
  readonly decisionId: string;
  readonly request: DecisionRequestV1;
  /** The PEP as policy saw it (`input.pep`): its roles are part of what policy decides on. */
  readonly pep: { readonly sub: string; readonly roles: readonly string[] };
  readonly verification: VerifyResult;
  readonly action: AuditedAction;
  readonly outcome: AuditedOutcome;
  /**
   * Policy's own outcome, given only when the answer is not it (an approval settled it, an
   * unverified caller was denied whatever policy said), so a replay compares policy with policy.
   */
  readonly policyOutcome?: AuditedOutcome;
  /** The approval this decision opened (approval_required) or consumed (allow after approval). */
  readonly approval?: { readonly id: string; readonly status: string };
  /** Later statements of the same shape this decision may stand for (their session records name it). */
  readonly reuse?: DecisionReuseV1;
  readonly revision: string | null;
  readonly timings: { readonly totalMicros: number; readonly enrichMicros: number; readonly evalMicros: number };
}

/**
 * The record of one decision: who (principal and PEP), what (the enriched action), where
 * (resource), under which policy, with what outcome. The subject token itself is never kept.
 */
export function buildDecisionAuditEvent(input: DecisionAuditInput): AuditEvent {
  const { request, verification } = input;
  const principal = verification.ok
    ? { authenticated: true, sub: verification.principal.sub, iss: verification.principal.iss, kind: verification.principal.kind, roles: verification.principal.roles }
    : { authenticated: false, error: verification.code };
  const sessionId = request.session?.id;
  return {
    stream: 'decisions',
    key: sessionId ?? input.decisionId,
    body: {
      event: 'decision',
      schema_version: 1,
      decision_id: input.decisionId,
      time: new Date().toISOString(),
      principal,
      pep: { sub: input.pep.sub, roles: [...input.pep.roles] },
      resource: request.resource,
      action: input.action,
      session: request.session ?? null,
      effect: input.outcome.effect,
      reasons: input.outcome.reasons,
      obligations: input.outcome.obligations,
      ...(input.outcome.approval ? { approval_requirement: input.outcome.approval } : {}),
      ...(input.approval ? { approval: { id: input.approval.id, status: input.approval.status } } : {}),
      ...(input.reuse ? { reuse: input.reuse } : {}),
      ...(input.policyOutcome ? { policy_outcome: differingMembers(input.policyOutcome, input.outcome) } : {}),
      policy_revision: input.revision,
      timings_us: {
        total: Math.round(input.timings.totalMicros),
        enrich: Math.round(input.timings.enrichMicros),
        eval: Math.round(input.timings.evalMicros),
      },
    },
  };
}

/**
 * Policy's outcome as the members in which it differs from the answer: its effect always, its
 * reasons, obligations and approval requirement only where the answer's are not the same, so
 * no field is stored twice (a replay reads the missing ones from the answer).
 */
function differingMembers(policy: AuditedOutcome, answer: AuditedOutcome): Record<string, unknown> {
  const same = (left: unknown, right: unknown): boolean => JSON.stringify(left) === JSON.stringify(right);
  return {
    effect: policy.effect,
    ...(same(policy.reasons, answer.reasons) ? {} : { reasons: policy.reasons }),
    ...(same(policy.obligations, answer.obligations) ? {} : { obligations: policy.obligations }),
    ...(policy.approval === undefined || same(policy.approval, answer.approval) ? {} : { approval_requirement: policy.approval }),
  };
}
