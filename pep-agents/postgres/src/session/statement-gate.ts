import type { DecisionAnswer, DecisionReuseCache } from '@portcullis/pep-core';
import type { ActionAuthorizer, AuthorizeContext } from '../decisions/action-authorizer.ts';
import { statementShape } from '../decisions/statement-shape.ts';
import { PgError, SQLSTATE } from '../errors/pg-error.ts';
import { refusalError } from '../errors/refusal-error.ts';
import type { ResultMaskerFactory } from './result-masker.ts';

export type StatementVerdict =
  | { readonly allowed: true; readonly answer: DecisionAnswer; readonly reused: boolean }
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

  constructor(
    private readonly authorizer: ActionAuthorizer,
    private readonly maskers: ResultMaskerFactory,
    private readonly context: () => AuthorizeContext,
    options: StatementGateOptions = {},
  ) {
    this.canRecord = options.canRecord ?? (() => true);
    this.reuse = options.reuse;
  }

  async decide(sql: string): Promise<StatementVerdict> {
    if (!this.canRecord()) {
      return {
        allowed: false,
        error: new PgError(SQLSTATE.cannotConnectNow, 'portcullis: the session record cannot keep up, so the statement is refused; retry shortly', {
          detail: 'reason: audit-unavailable',
        }),
      };
    }
    const shape = this.reuse ? statementShape(sql) : undefined;
    const reusable = shape === undefined ? undefined : this.reuse?.lookup(shape);
    if (reusable) return { allowed: true, answer: reusable, reused: true };

    const answer = await this.authorizer.authorize({ type: 'sql', sql }, this.context());
    const verdict = this.enforceable(answer);
    // Only what actually runs is kept for its shape; every answer still tells the cache the policy revision.
    this.reuse?.observe(verdict.allowed ? shape : undefined, answer);
    return verdict;
  }

  /** An allow this PEP can honour, or the error the client is shown. */
  private enforceable(answer: DecisionAnswer): StatementVerdict {
    if (answer.effect !== 'allow') return { allowed: false, error: refusalError(answer, 'statement') };
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
