import { staleDecisionReason, type DecisionAnswer, type DecisionReuseCache, type SqlParameterV1, type StaleDecisionReason } from '@portcullis/pep-core';
import type { ActionAuthorizer, AuthorizeContext } from '@portcullis/pep-core';
import { statementShape } from '../decisions/statement-shape.ts';
import { PgError, SQLSTATE } from '../errors/pg-error.ts';
import { refusalError } from '../errors/refusal-error.ts';
import type { ResultMaskerFactory } from './result-masker.ts';

export type StatementVerdict =
  /** `approvalAtBind`: policy wants an approval; asked with `deferApproval`, none was opened yet. */
  | { readonly allowed: true; readonly answer: DecisionAnswer; readonly reused: boolean; readonly approvalAtBind?: boolean }
  | { readonly allowed: false; readonly error: PgError };

export interface StatementGateOptions {
  /** Whether the session record can take another statement; when not, nothing runs. */
  readonly canRecord?: () => boolean;
  /** Allows the PDP granted reuse for, by statement shape (this session's); none: every text is asked about. */
  readonly reuse?: DecisionReuseCache;
}

/**
 * One SQL text → allowed (with the answer whose obligations the results must honour) or the
 * error the client is shown. An allow whose mask obligations cannot be honoured is a refusal.
 * A text whose shape an earlier allow covers (the PDP granted reuse) runs under that allow.
 */
export class StatementGate {
  private readonly canRecord: () => boolean;
  private readonly reuse: DecisionReuseCache | undefined;
  /** The policy revision of the newest PDP answer: decisions under older ones are decided again. */
  private latestRevision: string | null | undefined;

  constructor(
    private readonly authorizer: ActionAuthorizer,
    private readonly maskers: ResultMaskerFactory,
    private readonly context: () => AuthorizeContext,
    options: StatementGateOptions = {},
  ) {
    this.canRecord = options.canRecord ?? (() => true);
    this.reuse = options.reuse;
  }

  /**
   * `deferApproval` (extended protocol, at Parse): a statement that needs approval is not held
   * here; the verdict says so, and each execution is decided with its values (`decideExecution`).
   */
  async decide(sql: string, options: { readonly deferApproval?: boolean } = {}): Promise<StatementVerdict> {
    const refused = this.recordRefusal();
    if (refused) return refused;
    const shape = this.reuse ? statementShape(sql) : undefined;
    const reusable = shape === undefined ? undefined : this.reuse?.lookup(shape);
    if (reusable && this.staleReason(reusable, true) === undefined) return { allowed: true, answer: reusable, reused: true };

    const answer = await this.authorizer.authorize({ type: 'sql', sql }, this.context(), options.deferApproval ? { deferApproval: true } : {});
    this.observeRevision(answer);
    if (options.deferApproval && answer.effect === 'approval_required') {
      this.reuse?.observe(undefined, answer);
      return { allowed: true, answer, reused: false, approvalAtBind: true };
    }
    const verdict = this.enforceable(answer);
    // Only what actually runs is kept for its shape; every answer still tells the cache the policy revision.
    this.reuse?.observe(verdict.allowed ? shape : undefined, answer);
    return verdict;
  }

  /**
   * One execution of a statement with these parameter values, decided afresh: an approval it
   * needs is opened for (and bound to) exactly these values, awaited and consumed. Never reused.
   */
  async decideExecution(sql: string, parameters: SqlParameterV1[]): Promise<StatementVerdict> {
    const refused = this.recordRefusal();
    if (refused) return refused;
    const answer = await this.authorizer.authorize({ type: 'sql', sql, parameters }, this.context());
    this.observeRevision(answer);
    this.reuse?.observe(undefined, answer);
    return this.enforceable(answer);
  }

  /** Why an answer held since an earlier message no longer holds (undefined: it holds). */
  staleReason(answer: DecisionAnswer, reused: boolean): StaleDecisionReason | undefined {
    return staleDecisionReason(answer, { reused, latestRevision: this.latestRevision, now: Date.now() });
  }

  private observeRevision(answer: DecisionAnswer): void {
    if (answer.source === 'pdp') this.latestRevision = answer.policy_revision;
  }

  private recordRefusal(): StatementVerdict | undefined {
    if (!this.canRecord()) {
      return {
        allowed: false,
        error: new PgError(SQLSTATE.cannotConnectNow, 'portcullis: the session record cannot keep up, so the statement is refused; retry shortly', {
          detail: 'reason: audit-unavailable',
        }),
      };
    }
    return undefined;
  }

  /** An allow this PEP can honour, or the error the client is shown. */
  private enforceable(answer: DecisionAnswer): StatementVerdict {
    if (answer.effect !== 'allow') return { allowed: false, error: refusalError(answer, 'statement') };
    // The PDP may accept a token a little past its expiry (clock skew); nothing runs on it here.
    if (this.staleReason(answer, false) === 'token-expired') {
      return {
        allowed: false,
        error: new PgError(SQLSTATE.invalidAuthorization, 'portcullis: the access token has expired', { detail: `reason: token-expired; decision ${answer.decision_id}`, hint: 'Connect again with a fresh token.' }),
      };
    }
    if (!this.maskers.supports(answer.obligations.mask)) {
      const columns = answer.obligations.mask.map((mask) => `${mask.table}.${mask.column}`).join(', ');
      return {
        allowed: false,
        error: new PgError(SQLSTATE.insufficientPrivilege, `portcullis: the results of this statement must be masked (${columns}), and this PEP cannot mask them`, {
          detail: `reason: masking-unavailable; decision ${answer.decision_id}`,
        }),
      };
    }
    return { allowed: true, answer, reused: false };
  }
}
