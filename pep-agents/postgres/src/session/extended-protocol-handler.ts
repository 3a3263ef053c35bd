import type { DecisionAnswer, StaleDecisionReason } from '@portcullis/pep-core';
import { PgError, SQLSTATE } from '../errors/pg-error.ts';
import { decodeBind, decodeDescribeOrClose, decodeExecute, decodeParse, type BindMessage } from '../protocol/frontend-messages.ts';
import { renderBoundParameters } from './bound-parameters.ts';
import { isEmptyStatement } from './empty-statement.ts';
import type { FramedMessage } from '../protocol/message-reader.ts';
import { NameRegistry } from './name-registry.ts';
import type { PendingResponse } from './pending-responses.ts';
import { PASS_THROUGH_MASKER, type ResultMasker } from './result-masker.ts';
import { refuseExtended, type SessionIo } from './session-io.ts';
import { StatementRun } from './statement-run.ts';

/** A statement the server confirmed (or is about to): its text and the decision that allowed it. */
interface PreparedStatement {
  readonly sql: string;
  /** The parameter types the client declared at Parse (0: the server infers). */
  readonly parameterTypes: readonly number[];
  /** Undefined for an empty statement, which runs nothing and needs no decision. Replaced when decided again. */
  answer: DecisionAnswer | undefined;
  /** The answer is an earlier decision of the same shape, reused (see CommandGate). */
  reused: boolean;
  /** Policy wants an approval: every Bind is decided with its values, and approved for one execution. */
  approvalAtBind: boolean;
}

interface Portal {
  readonly statement: PreparedStatement;
  /** The decision this portal runs under (the statement's, or the one made at its Bind). */
  readonly answer: DecisionAnswer | undefined;
  readonly reused: boolean;
  readonly masker: ResultMasker;
  /** Decided at Bind with its values (an approval): it covers one execution, continued only while suspended. */
  readonly oneExecution: boolean;
  executions: number;
  /** The row limit of the last Execute: above 0 the portal may be suspended and continued. */
  lastMaxRows: number;
}

type BindDecision = { readonly answer: DecisionAnswer | undefined; readonly reused: boolean; readonly oneExecution: boolean };

// OIDs below this are assigned by initdb (built-in types); anything above was created in the database.
const FIRST_NORMAL_OBJECT_ID = 16384;

// SQL that may create or drop prepared statements or cursors: protocol names wait until it is done.
const NAME_CHANGING_SQL = /\b(prepare|deallocate|discard|declare|close)\b/i;

/**
 * The extended protocol: Parse is decided on its text; Bind, Describe and Execute run only what
 * the PEP saw parsed and allowed (by name); after a refusal everything up to Sync is dropped, as
 * the server itself does after an error. Pipelining is kept: nothing waits for the server except
 * a name whose Parse or Bind, sent before the last Sync, is not yet confirmed.
 *
 * A statement policy holds for approval is decided again at each Bind, with the values bound:
 * the approver sees them, the approval is bound to them, and the portal runs once. Every Bind and
 * Execute checks that the decision it relies on still holds (token, reuse window, policy revision).
 */
export class ExtendedProtocolHandler {
  private segment = 0;
  private discarding = false;
  private readonly statements = new NameRegistry<PreparedStatement>();
  private readonly portals = new NameRegistry<Portal>();

  constructor(private readonly io: SessionIo) {}

  /** After a refusal the client's messages are dropped until its Sync. */
  get discardingUntilSync(): boolean {
    return this.discarding;
  }

  async parse(message: FramedMessage): Promise<void> {
    const parse = decodeParse(message.body);
    let answer: DecisionAnswer | undefined;
    let reused = false;
    let approvalAtBind = false;
    const userType = parse.parameterTypes.find((oid) => oid >= FIRST_NORMAL_OBJECT_ID);
    if (userType !== undefined) return this.refuse(userTypeParameter(userType));
    if (!isEmptyStatement(parse.sql)) {
      const verdict = await this.io.gate.decide({ sql: parse.sql }, { deferApproval: true });
      if (!verdict.allowed) return this.refuse(verdict.refusal);
      ({ answer, reused } = verdict);
      approvalAtBind = verdict.approvalDeferred === true;
    }
    // Text parsed after an earlier Sync is read under the settings that pipeline left: wait to see them
    // (the server reports changes at ReadyForQuery). Within one pipeline, policy alone keeps settings fixed.
    const settling = this.io.pending.readyForQueryPending();
    if (settling) await settling;
    const settle = this.statements.propose(parse.name, { sql: parse.sql, parameterTypes: parse.parameterTypes, answer, reused, approvalAtBind }, this.segment);
    this.forward(message.raw, { kind: 'parse', settle });
  }

  async bind(message: FramedMessage): Promise<void> {
    const bind = decodeBind(message.body);
    await this.namesSettled();
    const statement = await this.statements.lookup(bind.statement, this.segment);
    if (!statement) return this.refuse(unknownStatement(bind.statement));
    const decided = await this.decideBind(statement, bind);
    if (decided instanceof PgError) return this.refuse(decided);
    const { answer } = decided;
    const masker = answer
      ? this.io.maskers.create({
          obligations: answer.obligations.mask,
          ...(answer.enrichment ? { enrichment: answer.enrichment } : {}),
          unmasked: answer.obligations.unmasked === true,
          maskComplete: answer.obligations.mask_complete === true,
          statement: { sql: statement.sql, decisionId: answer.decision_id, protocol: 'extended', resultFormats: bind.resultFormats },
        })
      : PASS_THROUGH_MASKER;
    const settle = this.portals.propose(bind.portal, { statement, ...decided, masker, executions: 0, lastMaxRows: 0 }, this.segment);
    this.forward(message.raw, { kind: 'bind', settle });
  }

  async describe(message: FramedMessage): Promise<void> {
    const describe = decodeDescribeOrClose(message.body, 'Describe');
    await this.namesSettled();
    let masker: ResultMasker | undefined;
    if (describe.target === 'S') {
      const statement = await this.statements.lookup(describe.name, this.segment);
      if (!statement) return this.refuse(unknownStatement(describe.name));
      masker = statement.answer
        ? this.io.maskers.create({
            obligations: statement.answer.obligations.mask,
            ...(statement.answer.enrichment ? { enrichment: statement.answer.enrichment } : {}),
          unmasked: statement.answer.obligations.unmasked === true,
          maskComplete: statement.answer.obligations.mask_complete === true,
            statement: { sql: statement.sql, decisionId: statement.answer.decision_id, protocol: 'extended', resultFormats: [] },
          })
        : PASS_THROUGH_MASKER;
    } else {
      masker = (await this.portals.lookup(describe.name, this.segment))?.masker;
      if (!masker) return this.refuse(unknownPortal(describe.name));
    }
    this.forward(message.raw, { kind: 'describe', masker });
  }

  async execute(message: FramedMessage): Promise<void> {
    const execute = decodeExecute(message.body);
    await this.namesSettled();
    const portal = await this.portals.lookup(execute.portal, this.segment);
    if (!portal) return this.refuse(unknownPortal(execute.portal));
    if (portal.oneExecution && portal.executions > 0 && portal.lastMaxRows <= 0) return this.refuse(executionUsed());
    const stale = portal.answer ? this.io.gate.staleReason(portal.answer, portal.reused) : undefined;
    if (stale) return this.refuse(staleDecision(stale));
    portal.executions += 1;
    portal.lastMaxRows = execute.maxRows;
    const decision = portal.answer ? { id: portal.answer.decision_id, reused: portal.reused } : undefined;
    const run = new StatementRun(portal.statement.sql, decision, portal.masker);
    this.forward(message.raw, { kind: 'execute', masker: portal.masker, run });
  }

  close(message: FramedMessage): void {
    const close = decodeDescribeOrClose(message.body, 'Close');
    const registry: NameRegistry<unknown> = close.target === 'S' ? this.statements : this.portals;
    registry.forget(close.name);
    this.forward(message.raw, { kind: 'close', settle: () => registry.forget(close.name) });
  }

  sync(message: FramedMessage): void {
    this.discarding = false;
    this.segment += 1;
    this.forward(message.raw, { kind: 'sync' });
  }

  flush(message: FramedMessage): void {
    this.io.upstream.send(message.raw);
  }

  /** SQL created or dropped statements or cursors: names the PEP knew may now run something else. */
  forgetNames(): void {
    this.statements.forgetConfirmed();
    this.portals.forgetConfirmed();
  }

  /** The transaction ended: the server dropped every portal. */
  transactionEnded(): void {
    this.portals.forgetConfirmed();
  }

  /**
   * The decision a new portal runs under: the statement's while it holds (else the statement is
   * decided again); for a statement that needs approval, one made now with the bound values.
   */
  private async decideBind(statement: PreparedStatement, bind: BindMessage): Promise<BindDecision | PgError> {
    if (!statement.answer) return { answer: undefined, reused: false, oneExecution: false };
    if (!statement.approvalAtBind) {
      if (this.io.gate.staleReason(statement.answer, statement.reused) === undefined) return { answer: statement.answer, reused: statement.reused, oneExecution: false };
      const verdict = await this.io.gate.decide({ sql: statement.sql }, { deferApproval: true });
      if (!verdict.allowed) return verdict.refusal;
      statement.answer = verdict.answer;
      statement.reused = verdict.reused;
      statement.approvalAtBind = verdict.approvalDeferred === true;
      if (!statement.approvalAtBind) return { answer: verdict.answer, reused: verdict.reused, oneExecution: false };
    }
    const parameters = renderBoundParameters(bind, statement.parameterTypes);
    if (parameters instanceof PgError) return parameters;
    const verdict = await this.io.gate.decide({ sql: statement.sql, parameters }, { fresh: true });
    if (!verdict.allowed) return verdict.refusal;
    return { answer: verdict.answer, reused: false, oneExecution: true };
  }

  private forward(raw: Buffer, response: PendingResponse): void {
    this.io.upstream.send(raw);
    this.io.pending.expect(response);
  }

  private refuse(error: PgError): void {
    refuseExtended(this.io, error);
    this.discarding = true;
  }

  private namesSettled(): Promise<void> {
    return this.io.pending.settled((response) => (response.kind === 'query' || response.kind === 'execute') && NAME_CHANGING_SQL.test(response.run.text));
  }
}

function unknownStatement(name: string): PgError {
  return new PgError(SQLSTATE.invalidStatementName, `portcullis: prepared statement "${name}" is not known to this PEP`, {
    detail: 'Only statements prepared with Parse through this PEP can be bound; SQL PREPARE, DEALLOCATE, DISCARD and DECLARE make it forget them.',
    hint: 'Parse the statement again (Close it first if the server still has it).',
  });
}

/**
 * A parameter declared at Parse with a type created in the database is a cast to that type (its
 * input function and domain checks run at Bind) that the text does not show, so policy never
 * judged it. Written in the text (`$1::mood`), the same cast is a call policy sees.
 */
function userTypeParameter(oid: number): PgError {
  return new PgError(SQLSTATE.insufficientPrivilege, `portcullis: a parameter is declared with type OID ${oid}, which is not built in`, {
    detail: 'reason: parameter-type-not-built-in',
    hint: 'Leave the parameter type unspecified (0) and cast in the statement text, where policy sees the cast.',
  });
}

function executionUsed(): PgError {
  return new PgError(SQLSTATE.insufficientPrivilege, 'portcullis: this portal was approved for one execution, and it ran', {
    detail: 'reason: approval-used',
    hint: 'Bind the statement again: the new values are decided (and approved) again.',
  });
}

function staleDecision(reason: StaleDecisionReason): PgError {
  const why = reason === 'token-expired' ? 'the access token expired' : reason === 'policy-revised' ? 'the policy changed' : 'the decision it reused has run out';
  return new PgError(reason === 'token-expired' ? SQLSTATE.invalidAuthorization : SQLSTATE.insufficientPrivilege, `portcullis: the decision this portal was bound under no longer holds: ${why}`, {
    detail: `reason: ${reason}`,
    hint: reason === 'token-expired' ? 'Connect again with a fresh token.' : 'Bind the statement again.',
  });
}

function unknownPortal(name: string): PgError {
  return new PgError(SQLSTATE.invalidCursorName, `portcullis: portal "${name}" is not known to this PEP`, {
    detail: 'Only portals bound through this PEP can be described or executed; SQL cursors are read with FETCH.',
  });
}
