import type { CommandDescription, CommandGate, GateRefusal, MaskObligationV1, PepAction, ProtocolAdapter, SqlParameterV1 } from '@portcullis/pep-core';
import { statementShape } from '../decisions/statement-shape.ts';
import { PgError, SQLSTATE } from '../errors/pg-error.ts';
import { refusalError } from '../errors/refusal-error.ts';
import type { ResultMaskerFactory } from './result-masker.ts';

/** What the Postgres PEP decides: one SQL text, with the values bound to it when an execution is decided on its own. */
export interface SqlCommand {
  readonly sql: string;
  readonly parameters?: SqlParameterV1[];
}

/**
 * The Postgres PEP's side of the command gate: SQL texts as `sql` actions, their shape for
 * reuse, result masking by this session's maskers, refusals as ErrorResponses psql prints.
 */
export class PostgresProtocolAdapter implements ProtocolAdapter<SqlCommand, PgError> {
  constructor(private readonly maskers: ResultMaskerFactory) {}

  action(command: SqlCommand): PepAction {
    return command.parameters ? { type: 'sql', sql: command.sql, parameters: command.parameters } : { type: 'sql', sql: command.sql };
  }

  describe(command: SqlCommand): CommandDescription {
    return { text: command.sql };
  }

  reuseShape(command: SqlCommand): string | undefined {
    // Values bound to one execution are decided with it, never stood in for.
    return command.parameters ? undefined : statementShape(command.sql);
  }

  canMask(masks: readonly MaskObligationV1[]): boolean {
    return this.maskers.supports(masks);
  }

  refuse(refusal: GateRefusal): PgError {
    switch (refusal.reason) {
      case 'decision':
        return refusalError(refusal.answer, 'statement');
      case 'record-unavailable':
        return new PgError(SQLSTATE.cannotConnectNow, 'portcullis: the session record cannot keep up, so the statement is refused; retry shortly', {
          detail: 'reason: audit-unavailable',
        });
      case 'token-expired':
        return new PgError(SQLSTATE.invalidAuthorization, 'portcullis: the access token has expired', {
          detail: `reason: token-expired; decision ${refusal.answer.decision_id}`,
          hint: 'Connect again with a fresh token.',
        });
      case 'masking-unavailable': {
        const columns = refusal.answer.obligations.mask.map((mask) => `${mask.table}.${mask.column}`).join(', ');
        return new PgError(SQLSTATE.insufficientPrivilege, `portcullis: the results of this statement must be masked (${columns}), and this PEP cannot mask them`, {
          detail: `reason: masking-unavailable; decision ${refusal.answer.decision_id}`,
        });
      }
    }
  }
}

/** The gate every statement of a Postgres session passes. */
export type StatementGate = CommandGate<SqlCommand, PgError>;
