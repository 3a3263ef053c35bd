import type { DecisionAnswer } from '@portcullis/pep-core';
import { PgError, SQLSTATE } from '../errors/pg-error.ts';
import { decodeBind, decodeDescribeOrClose, decodeExecute, decodeParse } from '../protocol/frontend-messages.ts';
import type { FramedMessage } from '../protocol/message-reader.ts';
import { NameRegistry } from './name-registry.ts';
import type { PendingResponse } from './pending-responses.ts';
import { PASS_THROUGH_MASKER, type ResultMasker } from './result-masker.ts';
import { refuseExtended, type SessionIo } from './session-io.ts';
import { StatementRun } from './statement-run.ts';

/** A statement the server confirmed (or is about to): its text and the decision that allowed it. */
interface PreparedStatement {
  readonly sql: string;
  /** Undefined for an empty statement, which runs nothing and needs no decision. */
  readonly answer: DecisionAnswer | undefined;
  /** The answer is an earlier decision of the same shape, reused (see StatementGate). */
  readonly reused: boolean;
}

interface Portal {
  readonly statement: PreparedStatement;
  readonly masker: ResultMasker;
}

// SQL that may create or drop prepared statements or cursors: protocol names wait until it is done.
const NAME_CHANGING_SQL = /\b(prepare|deallocate|discard|declare|close)\b/i;

/**
 * The extended protocol: Parse is decided on its text; Bind, Describe and Execute run only what
 * the PEP saw parsed and allowed (by name); after a refusal everything up to Sync is dropped, as
 * the server itself does after an error. Pipelining is kept: nothing waits for the server except
 * a name whose Parse or Bind, sent before the last Sync, is not yet confirmed.
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
    if (parse.sql.trim() !== '') {
      const verdict = await this.io.gate.decide(parse.sql);
      if (!verdict.allowed) return this.refuse(verdict.error);
      ({ answer, reused } = verdict);
    }
    const settle = this.statements.propose(parse.name, { sql: parse.sql, answer, reused }, this.segment);
    this.forward(message.raw, { kind: 'parse', settle });
  }

  async bind(message: FramedMessage): Promise<void> {
    const bind = decodeBind(message.body);
    await this.namesSettled();
    const statement = await this.statements.lookup(bind.statement, this.segment);
    if (!statement) return this.refuse(unknownStatement(bind.statement));
    const masker = statement.answer
      ? this.io.maskers.create({
          obligations: statement.answer.obligations.mask,
          ...(statement.answer.enrichment ? { enrichment: statement.answer.enrichment } : {}),
          unmasked: statement.answer.obligations.unmasked === true,
          maskComplete: statement.answer.obligations.mask_complete === true,
          statement: { sql: statement.sql, decisionId: statement.answer.decision_id, protocol: 'extended', resultFormats: bind.resultFormats },
        })
      : PASS_THROUGH_MASKER;
    const settle = this.portals.propose(bind.portal, { statement, masker }, this.segment);
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
    const run = new StatementRun(portal.statement.sql, portal.statement.answer?.decision_id ?? '', portal.masker, portal.statement.reused);
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

function unknownPortal(name: string): PgError {
  return new PgError(SQLSTATE.invalidCursorName, `portcullis: portal "${name}" is not known to this PEP`, {
    detail: 'Only portals bound through this PEP can be described or executed; SQL cursors are read with FETCH.',
  });
}
