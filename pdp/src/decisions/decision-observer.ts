import type { PolicyOutcome } from './policy-result.ts';

/** A recorded decision as policy saw it: the input it evaluated and what it answered. */
export interface ObservedDecision {
  readonly decisionId: string;
  /** The policy input exactly as evaluated (JSON text), so another policy can be asked the same question. */
  readonly inputJson: string;
  /** Policy's own outcome, before an approval settled it or an unverified caller was denied. */
  readonly outcome: PolicyOutcome;
  readonly revision: string;
  readonly principalSub: string | null;
  readonly resource: { readonly type: string; readonly name: string };
  readonly actionType: string;
}

/**
 * Told of each recorded decision once its answer is ready (a shadow policy evaluates it again).
 * `observe` must return at once and never throw: the answer does not wait for what it does.
 */
export interface DecisionObserver {
  observe(decision: ObservedDecision): void;
}
