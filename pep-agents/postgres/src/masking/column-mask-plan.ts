/**
 * Which strategy each column of a result gets, decided once per result (RowDescription, or the
 * start of COPY rows) and applied to every row after.
 *
 * - A column the server ties to a table (table OID ≠ 0) is judged by the column it really is,
 *   from the catalog: an alias or `SELECT *` cannot dodge its obligation.
 * - An expression column (OID 0) is judged by what the PDP says it is computed from.
 * - Whatever cannot be placed (no provenance, numbers that disagree, a catalog that cannot
 *   answer) gets the strictest strategy of the statement's obligations, at least redact.
 */
import { catalogColumn, type CatalogResolver, type CatalogTable } from './catalog-resolver.ts';
import { UNKNOWN_TYPE } from './cell-masker.ts';
import { atLeastRedact, type MaskObligationIndex, type SourceColumn } from './mask-obligation-index.ts';
import { mapColumnsToOutputs, type ColumnOrigin } from './output-column-mapping.ts';
import type { ResultField } from './row-description.ts';
import type { StatementResultFacts } from './statement-result-facts.ts';

export interface ColumnPlan {
  /** The obligation's strategy for this column; undefined: no obligation covers it. */
  readonly strategy: string | undefined;
  readonly typeOid: number;
  readonly format: number;
}

/** Relations whose columns are the ones policy names: tables and partitioned tables. */
const BASE_TABLE_KINDS: ReadonlySet<string> = new Set(['r', 'p']);

export async function planResultColumns(
  fields: readonly ResultField[],
  formats: readonly number[],
  facts: StatementResultFacts | undefined,
  obligations: MaskObligationIndex,
  catalog: CatalogResolver,
  redactOpaqueRelations = false,
): Promise<ColumnPlan[]> {
  const tables = needsCatalog(fields, obligations, redactOpaqueRelations) ? await tablesOf(fields, catalog) : new Map<number, CatalogTable>();
  return planWithTables(fields, formats, facts, obligations, tables, redactOpaqueRelations);
}

/**
 * The same plan, at once, when every table it needs is in the catalog's cache (the common case:
 * a session runs the same statements over and over); undefined when it would have to ask.
 */
export function planResultColumnsFromCache(
  fields: readonly ResultField[],
  formats: readonly number[],
  facts: StatementResultFacts | undefined,
  obligations: MaskObligationIndex,
  catalog: CatalogResolver,
  redactOpaqueRelations = false,
): ColumnPlan[] | undefined {
  let tables: ReadonlyMap<number, CatalogTable> | undefined = new Map();
  if (needsCatalog(fields, obligations, redactOpaqueRelations)) {
    tables = catalog.cachedTablesByOid?.(tableOids(fields));
    if (!tables) return undefined;
  }
  return planWithTables(fields, formats, facts, obligations, tables, redactOpaqueRelations);
}

// Nothing to mask and no relation to look into: no catalog look-up; the detectors still run.
function needsCatalog(fields: readonly ResultField[], obligations: MaskObligationIndex, redactOpaqueRelations: boolean): boolean {
  return !obligations.isEmpty || (redactOpaqueRelations && fields.some((field) => field.tableOid !== 0));
}

function planWithTables(
  fields: readonly ResultField[],
  formats: readonly number[],
  facts: StatementResultFacts | undefined,
  obligations: MaskObligationIndex,
  tables: ReadonlyMap<number, CatalogTable> | undefined,
  redactOpaqueRelations: boolean,
): ColumnPlan[] {
  const plan = (strategy: string | undefined, index: number): ColumnPlan => ({
    strategy,
    typeOid: (fields[index] as ResultField).typeOid,
    format: formats[index] ?? 0,
  });
  if (!needsCatalog(fields, obligations, redactOpaqueRelations)) return fields.map((_, index) => plan(undefined, index));
  const origins = mapColumnsToOutputs(fields.length, facts?.outputs);
  return fields.map((field, index) => {
    if (field.tableOid !== 0) {
      const table = tables?.get(field.tableOid);
      // A view's columns carry the view's name, which no obligation names: policy cannot say
      // what it exposes, so all of it is redacted (as is a relation the catalog cannot name).
      if (redactOpaqueRelations && (table === undefined || !BASE_TABLE_KINDS.has(table.kind))) {
        return plan(atLeastRedact(obligations.forUnknownColumn() ?? 'redact'), index);
      }
      const column = table ? catalogColumn(table, field.attnum) : undefined;
      return plan(column ? obligations.forCatalogColumn(column) : obligations.forUnknownColumn(), index);
    }
    return plan(strategyForOrigin(origins[index] ?? { kind: 'unknown' }, obligations), index);
  });
}

/** The tables a COPY's lone stars stand for (`COPY users TO STDOUT`, `COPY (SELECT * FROM users) …`). */
export type CopyStarTables = ReadonlyMap<string, CatalogTable | undefined>;

export async function resolveCopyStarTables(facts: StatementResultFacts | undefined, catalog: CatalogResolver): Promise<CopyStarTables> {
  const tables = new Map<string, CatalogTable | undefined>();
  for (const output of facts?.outputs ?? []) {
    const name = output.star ? output.star_table : undefined;
    if (name && !tables.has(name)) tables.set(name, await catalog.tableByName(name).catch(() => undefined));
  }
  return tables;
}

/**
 * COPY rows carry no table OIDs: provenance places the columns, and the catalog expands a star
 * over one table (when it is the whole stretch and the column count agrees).
 */
export function planCopyColumns(
  columnCount: number,
  formats: readonly number[],
  facts: StatementResultFacts | undefined,
  obligations: MaskObligationIndex,
  starTables: CopyStarTables,
): ColumnPlan[] {
  const plan = (strategy: string | undefined, index: number): ColumnPlan => ({ strategy, typeOid: UNKNOWN_TYPE, format: formats[index] ?? 0 });
  if (obligations.isEmpty) return Array.from({ length: columnCount }, (_, index) => plan(undefined, index));
  return mapColumnsToOutputs(columnCount, facts?.outputs).map((origin, index) => {
    const starTable = origin.kind === 'stretch' ? origin.star?.star_table : undefined;
    const table = starTable ? starTables.get(starTable) : undefined;
    if (origin.kind === 'stretch' && table && table.columnOrder.length === origin.width) {
      const column = table.columnOrder[origin.position] as string;
      return plan(obligations.forCatalogColumn({ schema: table.schema, table: table.table, column }), index);
    }
    return plan(strategyForOrigin(origin, obligations), index);
  });
}

function strategyForOrigin(origin: ColumnOrigin, obligations: MaskObligationIndex): string | undefined {
  switch (origin.kind) {
    case 'item':
      return obligations.forSourceColumns(origin.output.derived_from);
    case 'stretch': {
      // Which of the stretch's columns this is, nobody can say: all of it counts, strictly.
      const sources: SourceColumn[] = origin.outputs.flatMap((output) => [...output.derived_from]);
      const hit = obligations.forSourceColumns(sources);
      return hit === undefined ? undefined : atLeastRedact(hit);
    }
    case 'unknown':
      return obligations.forUnknownColumn();
  }
}

function tableOids(fields: readonly ResultField[]): number[] {
  return [...new Set(fields.filter((field) => field.tableOid !== 0).map((field) => field.tableOid))];
}

async function tablesOf(fields: readonly ResultField[], catalog: CatalogResolver): Promise<ReadonlyMap<number, CatalogTable> | undefined> {
  const oids = tableOids(fields);
  if (oids.length === 0) return new Map();
  try {
    return await catalog.tablesByOid(oids);
  } catch {
    // The catalog connection failed: every table column counts as unplaceable (strictest mask).
    return undefined;
  }
}
