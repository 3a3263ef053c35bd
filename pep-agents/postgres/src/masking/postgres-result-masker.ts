/**
 * The result masker of one statement: RowDescription decides each column's strategy (through
 * the catalog and the PDP's output provenance), DataRows and COPY rows are rewritten cell by
 * cell, and errors and notices are reduced to their SQLSTATE (server-text-reducer.ts). See column-mask-plan.ts for how columns
 * are judged and cell-masker.ts for how cells are rewritten.
 */
import { ValueScrubber } from '@portcullis/pep-core';
import { CellMasker, BINARY_FORMAT, TEXT_FORMAT, UNKNOWN_TYPE } from './cell-masker.ts';
import {
  gatherCopyKnowledge,
  NO_COPY_KNOWLEDGE,
  planCopyColumns,
  planResultColumns,
  type ColumnPlan,
  type CopyKnowledge,
} from './column-mask-plan.ts';
import { BinaryCopyStream, startsBinaryCopy } from './copy-binary-rows.ts';
import { copyTextSyntax, CopyTextRowSplitter, decodeField, encodeField, joinRow, splitRow, type CopyTextSyntax } from './copy-text-rows.ts';
import { decodeDataRow, encodeDataRow, type Cell } from './data-row-cells.ts';
import { MaskObligationIndex } from './mask-obligation-index.ts';
import type { RelationLookups } from './relation-knowledge.ts';
import type { PlanInputs } from './result-plan-memo.ts';
import type { CopyOutAwareResultMasker, ResultMaskerOptions } from './result-masker.ts';
import { bindFormatCodes, decodeRowDescription, effectiveFormats } from './row-description.ts';
import { reduceErrorOrNotice } from './server-text-reducer.ts';

export function createResultMasker(options: ResultMaskerOptions): CopyOutAwareResultMasker {
  return new PostgresResultMasker(options);
}

/** What a COPY row stream is, once known. */
type CopyState =
  | { readonly kind: 'binary'; readonly stream: BinaryCopyStream }
  | { readonly kind: 'text'; readonly syntax: CopyTextSyntax; readonly splitter: CopyTextRowSplitter; headerPending: boolean }
  /** Text or CSV with no format facts: rows cannot be split safely. */
  | { readonly kind: 'opaque-text' };

const REDACTED_ROW = Buffer.from('****\n', 'latin1');
// Detectors hold no state: every statement's masker shares these rather than building its own.
const DEFAULT_SCRUBBER = new ValueScrubber();
const NO_DETECTORS = new ValueScrubber([]);

class PostgresResultMasker implements CopyOutAwareResultMasker {
  private readonly obligations: MaskObligationIndex;
  private readonly cells: CellMasker;
  private readonly scrubber: ValueScrubber;
  /** The columns of the current RowDescription's rows. */
  private plan: ColumnPlan[] | undefined;
  /**
   * The column count of the current result when nothing can change its rows (no strategy, no
   * column a detector could touch): a DataRow of exactly that many cells passes unread. -1: read every row.
   */
  private untouchedWidth = -1;
  /** The columns of the current COPY's rows (a result of their own, never a RowDescription's). */
  private copyPlanned: ColumnPlan[] | undefined;
  private copy: CopyState | undefined;
  private copyFormats: readonly number[] = [];
  private copyKnowledge: CopyKnowledge = NO_COPY_KNOWLEDGE;
  private masked = 0;
  private readonly lookups: RelationLookups;

  constructor(private readonly options: ResultMaskerOptions) {
    this.obligations = MaskObligationIndex.of(options.obligations);
    this.lookups = { catalog: options.catalog, views: options.views, opaqueRelations: options.opaqueRelations ?? 'redact' };
    this.scrubber = options.scrubber === null ? NO_DETECTORS : (options.scrubber ?? DEFAULT_SCRUBBER);
    this.cells = new CellMasker(options.strategies, this.scrubber);
  }

  get maskedCells(): number {
    return this.masked;
  }

  onRowDescription(body: Buffer): Buffer | Promise<Buffer> {
    const memo = this.options.plans;
    const inputs: PlanInputs = {
      obligations: this.obligations, facts: this.options.statement, resultFormats: this.options.resultFormats, opaqueRelations: this.lookups.opaqueRelations, catalog: this.lookups.catalog,
    };
    const recalled = memo?.recall(body, inputs);
    if (recalled) {
      this.usePlan(recalled);
      return body;
    }
    const fields = decodeRowDescription(body);
    const formats = effectiveFormats(fields, this.options.resultFormats);
    const plan = planResultColumns(fields, formats, this.options.statement, this.obligations, this.lookups, memo && ((made, tables) => memo.keep(body, inputs, tables, made)));
    if (Array.isArray(plan)) {
      this.usePlan(plan);
      return body;
    }
    this.plan = undefined;
    this.untouchedWidth = -1;
    return plan.then((planned) => {
      this.usePlan(planned);
      return body;
    });
  }

  onDataRow(body: Buffer): Buffer {
    // A row of the described width whose columns nothing can touch is sent as the server sent it.
    if (this.untouchedWidth >= 0 && body.length >= 2 && body.readInt16BE(0) === this.untouchedWidth) return body;
    const cells = decodeDataRow(body);
    const rewritten = this.rewriteCells(cells, this.plan ?? this.blindPlan(cells.length));
    return rewritten === cells ? body : encodeDataRow(rewritten);
  }

  onCopyOutResponse(body: Buffer): Buffer | Promise<Buffer> {
    const overall = body.readInt8(0);
    const count = body.readInt16BE(1);
    this.copyFormats = Array.from({ length: count }, (_, index) => body.readInt16BE(3 + index * 2));
    this.copy = overall === BINARY_FORMAT ? this.binaryCopy() : this.textCopy();
    this.copyPlanned = undefined;
    if (this.obligations.isEmpty && this.lookups.opaqueRelations === 'show') {
      this.copyPlanned = this.copyPlan(count);
      return body;
    }
    return gatherCopyKnowledge(this.options.statement, this.obligations, this.lookups).then((knowledge) => {
      this.copyKnowledge = knowledge;
      this.copyPlanned = this.copyPlan(count);
      return body;
    });
  }

  onCopyData(body: Buffer): Buffer {
    this.copy ??= startsBinaryCopy(body) ? this.binaryCopy() : this.textCopy();
    switch (this.copy.kind) {
      case 'binary':
        return this.copy.stream.push(body);
      case 'text':
        return this.copyTextRows(this.copy, body);
      case 'opaque-text':
        return this.opaqueCopyRow(body);
    }
  }

  onErrorOrNotice(body: Buffer, type: 'E' | 'N'): Buffer {
    return this.options.serverText === 'show' ? body : reduceErrorOrNotice(type, body);
  }

  // ── rows ──────────────────────────────────────────────────────────────────────────────────

  private usePlan(plan: ColumnPlan[]): void {
    this.plan = plan;
    const untouched = plan.every((column) => column.strategy === undefined && this.cells.neverScrubs(column.typeOid, column.format));
    this.untouchedWidth = untouched ? plan.length : -1;
  }

  /** The same array when nothing changed. */
  private rewriteCells(cells: Cell[], plan: readonly ColumnPlan[]): Cell[] {
    let out: Cell[] | undefined;
    cells.forEach((cell, index) => {
      if (cell === null) return;
      const column = plan[index] ?? this.unplacedColumn();
      const replaced = column.strategy !== undefined
        ? this.cells.mask(cell, column.strategy, column.typeOid, column.format)
        : this.cells.scrub(cell, column.typeOid, column.format);
      if (replaced === undefined) return;
      out ??= [...cells];
      out[index] = replaced;
      this.masked += 1;
    });
    return out ?? cells;
  }

  /**
   * Rows with no RowDescription seen: types unknown, so a masked cell can only be NULL; formats
   * are Bind's, or taken as binary (detectors then only NULL a cell, never edit its bytes).
   */
  private blindPlan(count: number): ColumnPlan[] {
    const strategy = this.obligations.isEmpty ? undefined : 'null';
    const formats = this.options.resultFormats ? bindFormatCodes(count, this.options.resultFormats) : [];
    return Array.from({ length: count }, (_, index) => ({ strategy, typeOid: UNKNOWN_TYPE, format: formats[index] ?? BINARY_FORMAT }));
  }

  /** A cell beyond the described columns: the strictest treatment there is. */
  private unplacedColumn(): ColumnPlan {
    return { strategy: this.obligations.isEmpty ? undefined : 'null', typeOid: UNKNOWN_TYPE, format: BINARY_FORMAT };
  }

  // ── COPY ──────────────────────────────────────────────────────────────────────────────────

  private copyPlan(count: number): ColumnPlan[] {
    return planCopyColumns(count, this.copyFormats, this.options.statement, this.obligations, this.copyKnowledge, this.lookups.opaqueRelations);
  }

  private binaryCopy(): CopyState {
    return {
      kind: 'binary',
      stream: new BinaryCopyStream((cells) => {
        this.copyPlanned ??= this.copyPlan(cells.length);
        // Binary COPY rows carry no types: a masked field, or one a detector flags, becomes NULL.
        const plan = this.copyPlanned.map((column) => ({ ...column, typeOid: UNKNOWN_TYPE, format: BINARY_FORMAT }));
        return this.rewriteCells(cells, plan);
      }),
    };
  }

  private textCopy(): CopyState {
    const format = this.options.statement?.copy_format;
    if (!format || format.format === 'binary') return { kind: 'opaque-text' };
    const syntax = copyTextSyntax(format);
    return { kind: 'text', syntax, splitter: new CopyTextRowSplitter(syntax), headerPending: format.header };
  }

  private copyTextRows(state: Extract<CopyState, { kind: 'text' }>, body: Buffer): Buffer {
    const out: Buffer[] = [];
    for (const line of state.splitter.push(body)) {
      if (state.headerPending) {
        state.headerPending = false;
        out.push(Buffer.from(line, 'latin1'));
        continue;
      }
      out.push(this.copyTextRow(line, state.syntax));
    }
    return Buffer.concat(out);
  }

  private copyTextRow(line: string, syntax: CopyTextSyntax): Buffer {
    const row = splitRow(line, syntax);
    this.copyPlanned ??= this.copyPlan(row.fields.length);
    const plan = this.copyPlanned;
    // A row that does not split into the planned columns cannot be placed: hide all of it.
    const misplaced = row.fields.length !== plan.length && !this.obligations.isEmpty;
    let changed = false;
    const fields = row.fields.map((raw, index) => {
      const value = decodeField(raw, syntax);
      if (value === null) return raw;
      const strategy = misplaced ? 'redact' : plan[index]?.strategy;
      const replaced = strategy !== undefined ? this.cells.maskText(value, strategy) : this.cells.scrubText(value);
      if (replaced === undefined) return raw;
      changed = true;
      this.masked += 1;
      return encodeField(replaced, syntax);
    });
    return changed ? joinRow({ fields, lineEnd: row.lineEnd }, syntax) : Buffer.from(line, 'latin1');
  }

  /** Rows whose delimiters are unknown: hidden whole when anything may need masking, else scrubbed. */
  private opaqueCopyRow(body: Buffer): Buffer {
    if (!this.obligations.isEmpty) {
      this.masked += 1;
      return REDACTED_ROW;
    }
    const scrubbed = this.cells.scrub(body, UNKNOWN_TYPE, TEXT_FORMAT);
    if (scrubbed === undefined || scrubbed === null) return body;
    this.masked += 1;
    return scrubbed;
  }
}
