import { PgError, SQLSTATE } from '../errors/pg-error.ts';
import { decodeQuery } from '../protocol/frontend-messages.ts';
import type { FramedMessage } from '../protocol/message-reader.ts';
import { isEmptyStatement } from './empty-statement.ts';
import { PASS_THROUGH_MASKER } from './result-masker.ts';
import { refuseSimple, type SessionIo } from './session-io.ts';
import { StatementRun } from './statement-run.ts';

/**
 * Simple Query: the whole text, every statement in it, is one decision, made before any byte
 * reaches the server (the PDP parses multi-statement text itself).
 */
export class SimpleQueryHandler {
  constructor(private readonly io: SessionIo) {}

  async query(message: FramedMessage): Promise<void> {
    const sql = decodeQuery(message.body);
    // An empty query runs nothing; the server answers EmptyQueryResponse.
    if (isEmptyStatement(sql)) {
      this.forward(message.raw, new StatementRun(sql, undefined, PASS_THROUGH_MASKER));
      return;
    }
    const verdict = await this.io.gate.decide({ sql });
    if (!verdict.allowed) {
      refuseSimple(this.io, verdict.refusal);
      return;
    }
    const masker = this.io.maskers.create({
      obligations: verdict.answer.obligations.mask,
      ...(verdict.answer.enrichment ? { enrichment: verdict.answer.enrichment } : {}),
      unmasked: verdict.answer.obligations.unmasked === true,
      maskComplete: verdict.answer.obligations.mask_complete === true,
      statement: { sql, decisionId: verdict.answer.decision_id, protocol: 'simple', resultFormats: [] },
    });
    // The server reads this text under the settings the statements before it left: wait to see them.
    const settling = this.io.pending.readyForQueryPending();
    if (settling) await settling;
    this.forward(message.raw, new StatementRun(sql, { id: verdict.answer.decision_id, reused: verdict.reused }, masker));
  }

  /** The fast-path function call names a function by OID with binary arguments: refused outright. */
  functionCall(): void {
    refuseSimple(
      this.io,
      new PgError(SQLSTATE.insufficientPrivilege, 'portcullis: fast-path function calls are not allowed through this PEP', {
        hint: 'Call the function in SQL, where policy can see it.',
      }),
    );
  }

  private forward(raw: Buffer, run: StatementRun): void {
    this.io.upstream.send(raw);
    this.io.pending.expect({ kind: 'query', masker: run.masker, run });
  }
}
