/**
 * The seam between the session (which frames messages) and result masking (which rewrites
 * them): one ResultMasker per statement's result. Bodies are message payloads without the type
 * byte and the length; whatever comes back is framed again by the session.
 */
import type { MaskObligationV1, MaskStrategyRegistry, ValueScrubber } from '@portcullis/pep-core';
import type { CatalogResolver } from './catalog-resolver.ts';
import type { OpaqueRelations } from './relation-knowledge.ts';
import type { ResultPlanMemo } from './result-plan-memo.ts';
import type { StatementResultFacts } from './statement-result-facts.ts';
import type { ViewLineageSource } from './view-lineage-resolver.ts';

export interface ResultMasker {
  /** May resolve table OIDs through the catalog; DataRows must wait until it has answered. */
  onRowDescription(body: Buffer): Buffer | Promise<Buffer>;
  /** Rewrites cells, keeps lengths and framing right. */
  onDataRow(body: Buffer): Buffer;
  /** COPY TO STDOUT rows, text, CSV or binary. May return an empty body while a row is incomplete. */
  onCopyData(body: Buffer): Buffer;
  /** ErrorResponse or NoticeResponse: reduced to SQLSTATE, severity and a fixed text unless `serverText` is `show`. */
  onErrorOrNotice(body: Buffer, type: 'E' | 'N'): Buffer;
  readonly maskedCells: number;
}

/**
 * Optional, for COPY: CopyOutResponse gives the column count and formats before the rows, and
 * lets `COPY users TO STDOUT` be expanded through the catalog. Without it COPY rows are still
 * masked, from provenance alone (a star over a table then masks by the table's strictest
 * obligation).
 */
export interface CopyOutAwareResultMasker extends ResultMasker {
  onCopyOutResponse(body: Buffer): Buffer | Promise<Buffer>;
}

export interface ResultMaskerOptions {
  /** The decision's `obligations.mask`; tables bare or schema-qualified. */
  readonly obligations: readonly MaskObligationV1[];
  /**
   * The PDP's facts about this one statement (`outputs`, `copy_format`). Absent, or a text of
   * several statements: expression columns are masked whenever the statement has obligations.
   */
  readonly statement?: StatementResultFacts;
  /** Bind's result-format codes (extended protocol); absent: RowDescription's own codes. */
  readonly resultFormats?: readonly number[];
  readonly catalog: CatalogResolver;
  readonly strategies: MaskStrategyRegistry;
  /**
   * The value detectors run on every cell no obligation covers; the core's default set when
   * absent. Null turns them off, for a principal entitled to see personal data (a decision
   * without obligations does not say which it is: the session must).
   */
  readonly scrubber?: ValueScrubber | null;
  /**
   * Columns of relations whose columns policy does not name (views, materialized views, foreign
   * tables), and values computed from a view: `redact` (the default) redacts them whole, `trace`
   * masks a view's columns by the base columns they come from (for a decision whose obligations
   * name every sensitive column, `obligations.mask_complete`), `show` treats them as any column
   * (the principal reads unmasked, `obligations.unmasked`). See relation-knowledge.ts.
   */
  readonly opaqueRelations?: OpaqueRelations;
  /**
   * The server's errors and notices: `withhold` (the default) reduces them to SQLSTATE, severity
   * and a fixed text (server-text-reducer.ts); `show`, for a principal policy lets read unmasked,
   * passes them as they are.
   */
  readonly serverText?: 'withhold' | 'show';
  /** Traces views for `trace`, and tells which provenance names are views. */
  readonly views?: ViewLineageSource;
  /** The session's plans of earlier results, recalled when this one is described the same way (optional). */
  readonly plans?: ResultPlanMemo;
}
