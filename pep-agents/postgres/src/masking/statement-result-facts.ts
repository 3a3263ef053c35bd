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
