import type { AnyDecisionAnswer } from './decision-contract.ts';
import { instantOf } from './instant-of.ts';

/** Why an earlier decision can no longer be relied on; the command must be decided again. */
export type StaleDecisionReason = 'token-expired' | 'reuse-window-over' | 'policy-revised';

export interface DecisionValidityContext {
  /** The answer stood in for a later command of the same shape (a reuse grant). */
  readonly reused: boolean;
  /** The newest policy revision the PEP has seen answers under (undefined: none yet). */
  readonly latestRevision: string | null | undefined;
  readonly now: number;
}

/**
 * Whether a decision a PEP holds on to (a prepared statement's, a reused allow) still holds for
 * one more execution: not after the subject token expired, not past the reuse window it was used
 * under, not once the PDP answered under a newer policy revision.
 */
export function staleDecisionReason(answer: AnyDecisionAnswer, context: DecisionValidityContext): StaleDecisionReason | undefined {
  const tokenExpiry = answer.principal.expires_at === undefined ? Infinity : instantOf(answer.principal.expires_at);
  if (!(tokenExpiry > context.now)) return 'token-expired';
  if (context.reused) {
    const reuseEnd = answer.reuse ? instantOf(answer.reuse.expires_at) : NaN;
    if (!(reuseEnd > context.now)) return 'reuse-window-over';
  }
  if (answer.source === 'pdp' && context.latestRevision !== undefined && answer.policy_revision !== context.latestRevision) return 'policy-revised';
  return undefined;
}
