/**
 * What the PDP's SQL enrichment says about one statement's result (docs/policy-input.md:
 * `outputs`, `copy_format`), in the shape the PDP writes it. The masker needs it for columns the
 * server cannot tie to a table, and to read COPY rows.
 */
import type { SourceColumn } from './mask-obligation-index.ts';

export interface StatementOutput {
  readonly name: string;
  /** `*` / `q.*`: several result columns. */
  readonly star: boolean;
  readonly star_table?: string | null;
  readonly direct?: SourceColumn | null;
  /**
   * The value is a source column's value itself (directly, through text casts or case folding);
   * false or absent: computed from it (reverse, split_part, ||, …), where only a mask that hides
   * the whole value is safe.
   */
  readonly is_value?: boolean;
  /** Every column the value is computed from; column "*" is a table's whole row. */
  readonly derived_from: readonly SourceColumn[];
}

export interface StatementCopyFormat {
  readonly format: 'text' | 'csv' | 'binary';
  readonly delimiter: string;
  readonly null_string: string;
  readonly quote: string | null;
  readonly escape: string | null;
  readonly header: boolean;
}

export interface StatementResultFacts {
  /** Null or absent: the columns are not known, and every expression column is treated as suspect. */
  readonly outputs?: readonly StatementOutput[] | null;
  readonly copy_format?: StatementCopyFormat | null;
}

/**
 * Facts as received over the wire, checked: anything malformed is dropped (undefined), which
 * makes the masker treat the columns as unknown and mask strictly rather than trip over it.
 */
export function readStatementResultFacts(value: unknown): StatementResultFacts | undefined {
  if (!isObject(value)) return undefined;
  // A reused decision's statements share its enrichment: read once, the same facts for each (result-plan-memo.ts).
  if (read.has(value)) return read.get(value);
  const facts = readFacts(value);
  read.set(value, facts);
  return facts;
}

/** Facts read per enrichment object (an answer's enrichment is never changed once received). */
const read = new WeakMap<object, StatementResultFacts | undefined>();

function readFacts(value: Record<string, unknown>): StatementResultFacts | undefined {
  const outputs = value.outputs === null || value.outputs === undefined ? null : readOutputs(value.outputs);
  if (outputs === undefined) return undefined;
  const copyFormat = value.copy_format === null || value.copy_format === undefined ? null : readCopyFormat(value.copy_format);
  return { outputs, copy_format: copyFormat ?? null };
}

function readOutputs(value: unknown): StatementOutput[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const outputs: StatementOutput[] = [];
  for (const item of value) {
    if (!isObject(item) || typeof item.name !== 'string' || typeof item.star !== 'boolean' || !Array.isArray(item.derived_from)) return undefined;
    const sources = item.derived_from.filter(isSourceColumn);
    if (sources.length !== item.derived_from.length) return undefined;
    outputs.push({
      name: item.name,
      star: item.star,
      star_table: typeof item.star_table === 'string' ? item.star_table : null,
      direct: isSourceColumn(item.direct) ? item.direct : null,
      is_value: item.is_value === true,
      derived_from: sources,
    });
  }
  return outputs;
}

function readCopyFormat(value: unknown): StatementCopyFormat | undefined {
  if (!isObject(value)) return undefined;
  const { format, delimiter, null_string: nullString, quote, escape, header } = value;
  if (format !== 'text' && format !== 'csv' && format !== 'binary') return undefined;
  if (typeof delimiter !== 'string' || typeof nullString !== 'string' || typeof header !== 'boolean') return undefined;
  if (!(quote === null || typeof quote === 'string') || !(escape === null || typeof escape === 'string')) return undefined;
  return { format, delimiter, null_string: nullString, quote, escape, header };
}

function isSourceColumn(value: unknown): value is SourceColumn {
  return isObject(value) && typeof value.table === 'string' && typeof value.column === 'string';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
