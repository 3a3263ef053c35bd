/**
 * Result masking behind the session's ResultMaskerFactory (session/result-masker.ts), whose
 * maskers take whole messages: each message is unframed, masked as a body, and framed again
 * with its own type byte. One factory per client session, so its statements share what the
 * session knows of its SQL cursors (a FETCH's rows are masked by the decision on the cursor's
 * DECLARE: cursor-memory.ts) and of its principal (session-message-masker.ts).
 */
import type { MaskObligationV1, MaskStrategyRegistry, ValueScrubber } from '@portcullis/pep-core';
import type { ResultMasker as FramedResultMasker, ResultMaskerFactory, ResultMaskingContext } from '../session/result-masker.ts';
import type { CatalogResolver } from './catalog-resolver.ts';
import { readCursorFacts, type CursorFacts } from './cursor-facts.ts';
import { CursorFetchMasker } from './cursor-fetch-masker.ts';
import { CursorMemory } from './cursor-memory.ts';
import { createResultMasker } from './postgres-result-masker.ts';
import type { CopyOutAwareResultMasker } from './result-masker.ts';
import type { OpaqueRelations } from './relation-knowledge.ts';
import { ResultPlanMemo } from './result-plan-memo.ts';
import { SessionMessageMasker } from './session-message-masker.ts';
import { readStatementResultFacts, type StatementResultFacts } from './statement-result-facts.ts';
import type { ViewLineageSource } from './view-lineage-resolver.ts';

export interface SessionMaskerFactoryOptions {
  readonly catalog: CatalogResolver;
  readonly strategies: MaskStrategyRegistry;
  /** As ResultMaskerOptions.scrubber: null turns the value detectors off for this session. */
  readonly scrubber?: ValueScrubber | null;
  /**
   * The PDP's facts about the statement (`outputs`, `copy_format`, `cursor`). By default they are read
   * from the decision answer's `enrichment` when the session passes it on in the context (as
   * `context.enrichment`), and only for a one-statement text. Without them, expression columns
   * of a statement with obligations are masked outright and COPY rows in text or CSV are
   * hidden whole.
   */
  readonly factsFor?: (context: ResultMaskingContext) => unknown;
  /**
   * Traces views to the base columns they are computed from, for decisions whose obligations name
   * every sensitive column (`context.maskComplete`). Without it views are redacted whole.
   */
  readonly views?: ViewLineageSource;
}

/** A statement that may have changed what a view is or reads (DO and CALL may run DDL): what was kept about views is dropped. */
const DEFINITION_CHANGING_TAG = /^(CREATE|ALTER|DROP|DO|CALL)\b/;

const HEADER_BYTES = 5;

export class SessionMaskerFactory implements ResultMaskerFactory {
  private readonly cursors = new CursorMemory();
  /** Notifications, ParameterStatus and notices no statement owns; knows whether the principal's results are masked. */
  readonly sessionMessages = new SessionMessageMasker();
  /** DDL ran in the open transaction: others see its effect only once it commits. */
  private definitionsChangedInTransaction = false;
  /** The session's result plans, for its next statements described the same way. */
  private readonly plans = new ResultPlanMemo();

  constructor(private readonly options: SessionMaskerFactoryOptions) {}

  /** Every strategy name is honoured (an unknown one as redact), so no obligation is refused. */
  supports(_obligations: readonly MaskObligationV1[]): boolean {
    return true;
  }

  create(context: ResultMaskingContext): FramedResultMasker {
    this.sessionMessages.decisionMade(context.unmasked === true);
    const described = (this.options.factsFor ?? factsFromEnrichment)(context);
    const statement = readStatementResultFacts(described);
    const cursor = readCursorFacts(described);
    const declared = cursor?.operation === 'declare' ? { facts: statement, obligations: context.obligations, hold: cursor.hold } : undefined;
    const cursorCompleted = this.cursors.completionOf(cursor, declared);
    return new FramedMessageMasker(this.resultsMasker(context, statement, cursor), (tag) => {
      cursorCompleted(tag);
      if (DEFINITION_CHANGING_TAG.test(tag)) this.definitionsChanged();
    });
  }

  /** The client binds a named portal, which SQL FETCH can read like a cursor. */
  portalBound(name: string): void {
    this.cursors.portalBound(name);
  }

  /** ReadyForQuery says no transaction is open: the server closed every cursor not WITH HOLD. */
  transactionEnded(): void {
    this.cursors.transactionEnded();
    // The catalog session may have read the old definitions again before the commit.
    if (this.definitionsChangedInTransaction) this.options.views?.forget();
    this.definitionsChangedInTransaction = false;
  }

  private definitionsChanged(): void {
    this.options.views?.forget();
    this.definitionsChangedInTransaction = true;
  }

  /** A FETCH's rows are its cursor's: masked by what the session knows of that cursor's DECLARE. */
  private resultsMasker(context: ResultMaskingContext, statement: StatementResultFacts | undefined, cursor: CursorFacts | undefined): CopyOutAwareResultMasker {
    if (cursor?.operation !== 'fetch' || cursor.name === null) return this.bodyMasker(context, statement, context.obligations);
    return new CursorFetchMasker(cursor.name, this.cursors, (declared) =>
      this.bodyMasker(context, declared?.facts, [...context.obligations, ...(declared?.obligations ?? [])]));
  }

  private bodyMasker(context: ResultMaskingContext, statement: StatementResultFacts | undefined, obligations: readonly MaskObligationV1[]): CopyOutAwareResultMasker {
    return createResultMasker({
      obligations,
      ...(statement ? { statement } : {}),
      ...(context.statement.protocol === 'extended' ? { resultFormats: context.statement.resultFormats } : {}),
      catalog: this.options.catalog,
      ...(this.options.views ? { views: this.options.views } : {}),
      opaqueRelations: opaqueRelationsFor(context),
      plans: this.plans,
      strategies: this.options.strategies,
      // A principal policy lets read in clear gets no detectors.
      ...(context.unmasked === true ? { scrubber: null } : this.options.scrubber !== undefined ? { scrubber: this.options.scrubber } : {}),
      serverText: context.unmasked === true ? 'show' : 'withhold',
    });
  }
}

/**
 * In clear for a principal policy lets read unmasked; traced when the obligations name every
 * sensitive column (a view's base columns then find theirs); else redacted whole.
 */
function opaqueRelationsFor(context: ResultMaskingContext): OpaqueRelations {
  if (context.unmasked === true) return 'show';
  return context.maskComplete === true ? 'trace' : 'redact';
}

/**
 * The one statement's facts from the answer's `enrichment`, if the session put it in the context.
 * Facts place one statement's columns; several statements answered through one masker have none.
 */
function factsFromEnrichment(context: ResultMaskingContext): unknown {
  const enrichment = (context as { enrichment?: { statements?: unknown } }).enrichment;
  const statements = enrichment?.statements;
  return Array.isArray(statements) && statements.length === 1 ? statements[0] : undefined;
}

/** The session's whole-message view of a body masker. */
class FramedMessageMasker implements FramedResultMasker {
  constructor(
    private readonly masker: CopyOutAwareResultMasker,
    private readonly completed: (tag: string) => void,
  ) {}

  get maskedCells(): number {
    return this.masker.maskedCells;
  }

  onRowDescription(message: Buffer): Buffer | Promise<Buffer> {
    const payload = body(message);
    return reframeWhenReady(message, payload, this.masker.onRowDescription(payload));
  }

  onDataRow(message: Buffer): Buffer {
    const payload = body(message);
    return reframe(message, payload, this.masker.onDataRow(payload));
  }

  onCopyData(message: Buffer): Buffer {
    const payload = body(message);
    return reframe(message, payload, this.masker.onCopyData(payload));
  }

  /** CopyOutResponse ('H'), when the relay hands it over: the column count and the catalog expansion. */
  onCopyOutResponse(message: Buffer): Buffer | Promise<Buffer> {
    const payload = body(message);
    return reframeWhenReady(message, payload, this.masker.onCopyOutResponse(payload));
  }

  onErrorOrNotice(message: Buffer): Buffer {
    const payload = body(message);
    return reframe(message, payload, this.masker.onErrorOrNotice(payload, message[0] === 0x4e ? 'N' : 'E'));
  }

  onCommandComplete(tag: string): void {
    this.completed(tag);
  }
}

/** reframe() of a body that may still be on its way (a plan waiting for the catalog). */
function reframeWhenReady(message: Buffer, payload: Buffer, result: Buffer | Promise<Buffer>): Buffer | Promise<Buffer> {
  return Buffer.isBuffer(result) ? reframe(message, payload, result) : result.then((rewritten) => reframe(message, payload, rewritten));
}

function body(message: Buffer): Buffer {
  return message.subarray(HEADER_BYTES);
}

/** The original message when the body came back untouched, else the new body framed with the same type. */
function reframe(message: Buffer, original: Buffer, payload: Buffer): Buffer {
  return payload === original ? message : frame(message[0] as number, payload);
}

function frame(type: number, payload: Buffer): Buffer {
  const message = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  message[0] = type;
  message.writeInt32BE(payload.length + 4, 1);
  payload.copy(message, HEADER_BYTES);
  return message;
}
