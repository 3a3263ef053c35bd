/**
 * A view's columns traced to the base-table columns they are computed from: the view's SQL read
 * by the PDP's analyzer (`outputs[i].derived_from`, position i being the view's i-th column), each
 * source relation placed through what the view depends on, views among them through their own
 * lineage. Whatever cannot be placed for sure makes the column opaque (redacted whole); whatever
 * makes the whole definition doubtful makes every column opaque.
 */
import type { CatalogColumn } from './catalog-resolver.ts';
import { readsBeyondItsArguments } from './data-reading-functions.ts';
import type { SourceColumn } from './mask-obligation-index.ts';
import type { StatementOutput } from './statement-result-facts.ts';
import { BASE_TABLE_KINDS, FIRST_NORMAL_OBJECT_ID, VIEW_KINDS, type ViewDefinition, type ViewDependency } from './view-definition.ts';

/** A base-table column a value is computed from; column "*" is the table's whole row. */
export type BaseColumn = CatalogColumn;

export type ColumnLineage =
  /** `transformed`: computed from its sources (false: it is a base column's value, as is). */
  | { readonly kind: 'traced'; readonly sources: readonly BaseColumn[]; readonly transformed: boolean }
  | { readonly kind: 'opaque'; readonly reason: string };

export type ViewLineage =
  | {
      readonly kind: 'traced';
      readonly oid: number;
      /** By attribute number. */
      readonly columns: ReadonlyMap<number, { readonly name: string; readonly lineage: ColumnLineage }>;
      /** It rests on an answer that may change soon (a depth cut, a failed look-up): not to be kept. */
      readonly provisional: boolean;
    }
  | { readonly kind: 'opaque'; readonly oid: number; readonly reason: string; readonly provisional: boolean };

export interface ViewAnalysis {
  readonly outputs: readonly StatementOutput[];
  readonly functions: readonly string[];
}

export function opaqueView(oid: number, reason: string, provisional = false): ViewLineage {
  return { kind: 'opaque', oid, reason, provisional };
}

/**
 * Traces each column of `view`. `dependencyLineage` gives the lineage of each view or
 * materialized view the definition reads (undefined: not known, which makes its columns opaque).
 */
export function traceViewColumns(
  view: ViewDefinition,
  analysis: ViewAnalysis,
  dependencyLineage: (oid: number) => ViewLineage | undefined,
): ViewLineage {
  if (view.callsUserCode) return opaqueView(view.oid, 'it calls a function or operator that is not built in');
  const reader = analysis.functions.find(readsBeyondItsArguments);
  if (reader !== undefined) return opaqueView(view.oid, `it calls ${reader}, which reads data its arguments do not show`);
  if (!linesUp(view, analysis.outputs)) return opaqueView(view.oid, 'its definition does not line up with its columns');
  let provisional = false;
  const depends = (oid: number): ViewLineage | undefined => {
    const lineage = dependencyLineage(oid);
    if (lineage === undefined || lineage.provisional) provisional = true;
    return lineage;
  };
  const columns = new Map<number, { name: string; lineage: ColumnLineage }>();
  view.columns.forEach((column, position) => {
    const output = analysis.outputs[position] as StatementOutput;
    columns.set(column.attnum, { name: column.name, lineage: traceSources(output.derived_from, output.is_value !== true, view.dependencies, depends) });
  });
  return { kind: 'traced', oid: view.oid, columns, provisional };
}

/** The lineage of a view's column by name (as another definition names it), or undefined. */
export function viewColumnNamed(lineage: Extract<ViewLineage, { kind: 'traced' }>, name: string): ColumnLineage | undefined {
  const columns = [...lineage.columns.values()];
  const exact = columns.find((column) => column.name === name);
  if (exact) return exact.lineage;
  // The analyzer keeps a column's case; a quoted name may differ from it in case only.
  const folded = columns.filter((column) => column.name.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0]!.lineage : undefined;
}

/** Every column of a view at once (a whole-row reference): opaque if any is. */
export function wholeViewLineage(lineage: ViewLineage): ColumnLineage {
  if (lineage.kind === 'opaque') return { kind: 'opaque', reason: lineage.reason };
  return mergeLineages([...lineage.columns.values()].map((column) => column.lineage));
}

// A whole row at once is a composite of its columns: computed, whatever each column is.
function mergeLineages(lineages: readonly ColumnLineage[]): ColumnLineage {
  const sources: BaseColumn[] = [];
  for (const lineage of lineages) {
    if (lineage.kind === 'opaque') return lineage;
    sources.push(...lineage.sources);
  }
  return { kind: 'traced', sources: distinct(sources), transformed: true };
}

// pg_get_viewdef writes one target-list item per column, in column order, with an explicit
// alias wherever the column's name is not the expression's own: anything else is not the
// definition these columns were made by.
function linesUp(view: ViewDefinition, outputs: readonly StatementOutput[]): boolean {
  if (view.columns.length === 0 || outputs.length !== view.columns.length) return false;
  return outputs.every((output, position) => !output.star && output.name === view.columns[position]!.name);
}

function traceSources(sources: readonly SourceColumn[], computed: boolean, dependencies: readonly ViewDependency[], lineageOf: (oid: number) => ViewLineage | undefined): ColumnLineage {
  const traced: BaseColumn[] = [];
  let transformed = computed;
  const wholeRows = new Set(sources.filter((source) => source.column === '*').map((source) => source.table.toLowerCase()));
  for (const source of sources) {
    const table = source.table.toLowerCase();
    const candidates = dependencies.filter((dependency) => dependency.name.toLowerCase() === table);
    if (candidates.length === 0) return { kind: 'opaque', reason: `it reads ${source.table}, which is not among the relations it depends on` };
    for (const relation of candidates) {
      if (relation.oid < FIRST_NORMAL_OBJECT_ID) return { kind: 'opaque', reason: `it reads the system relation ${relation.name}` };
      if (BASE_TABLE_KINDS.has(relation.kind)) {
        traced.push({ schema: relation.schema, table: relation.name, column: source.column });
        continue;
      }
      if (!VIEW_KINDS.has(relation.kind)) return { kind: 'opaque', reason: `it reads ${relation.name}, whose columns policy cannot name (relkind ${relation.kind})` };
      const inner = lineageOf(relation.oid);
      if (!inner || inner.kind === 'opaque') return { kind: 'opaque', reason: `it reads the view ${relation.name}, which cannot be traced` };
      if (source.column === '*') {
        const whole = wholeViewLineage(inner);
        if (whole.kind === 'opaque') return whole;
        traced.push(...whole.sources);
        continue;
      }
      const column = viewColumnNamed(inner, source.column);
      // A name the view lacks is the analyzer's over-attribution of a whole-row reference, which `*` covers.
      if (column === undefined && wholeRows.has(table)) continue;
      if (column === undefined) return { kind: 'opaque', reason: `it reads ${relation.name}.${source.column}, which that view does not have` };
      if (column.kind === 'opaque') return column;
      // A view over a view: computed anywhere along the way is computed.
      transformed ||= column.transformed;
      traced.push(...column.sources);
    }
  }
  return { kind: 'traced', sources: distinct(traced), transformed };
}

function distinct(columns: readonly BaseColumn[]): BaseColumn[] {
  const seen = new Map<string, BaseColumn>();
  for (const column of columns) seen.set(JSON.stringify([column.schema, column.table, column.column]), column);
  return [...seen.values()];
}
