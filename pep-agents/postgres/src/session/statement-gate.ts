import type { DecisionAnswer } from '@portcullis/pep-core';
import type { ActionAuthorizer, AuthorizeContext } from '../decisions/action-authorizer.ts';
import { PgError, SQLSTATE } from '../errors/pg-error.ts';
import { refusalError } from '../errors/refusal-error.ts';
import type { ResultMaskerFactory } from './result-masker.ts';

export type StatementVerdict = { readonly allowed: true; readonly answer: DecisionAnswer } | { readonly allowed: false; readonly error: PgError };

/**
 * One SQL text → allowed (with the answer whose obligations the results must honour) or the
 * error the client is shown. An allow whose mask obligations cannot be honoured is a refusal.
 */
export class StatementGate {
  constructor(
    private readonly authorizer: ActionAuthorizer,
    private readonly maskers: ResultMaskerFactory,
    private readonly context: () => AuthorizeContext,
    /** Whether the session record can take another statement; when not, nothing runs. */
    private readonly canRecord: () => boolean = () => true,
  ) {}

  async decide(sql: string): Promise<StatementVerdict> {
    if (!this.canRecord()) {
      return {
        allowed: false,
        error: new PgError(SQLSTATE.cannotConnectNow, 'portcullis: the session record cannot keep up, so the statement is refused; retry shortly', {
          detail: 'reason: audit-unavailable',
        }),
      };
    }
    const answer = await this.authorizer.authorize({ type: 'sql', sql }, this.context());
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
    return { allowed: true, answer };
  }
}
