/**
 * Which strategy each column of a result gets, decided once per result (RowDescription, or the
 * start of COPY rows) and applied to every row after.
 *
 * - A column the server ties to a table (table OID ≠ 0) is judged by the column it really is,
 *   from the catalog: an alias or `SELECT *` cannot dodge its obligation.
 * - A view's column (its OID is the view's, which no obligation names) is judged by the base
 *   columns the view computes it from when views are traced (view-lineage.ts), else redacted.
 * - An expression column (OID 0) is judged by what the PDP says it is computed from
 *   (provenance-strategy.ts).
 * - Whatever cannot be placed (no provenance, numbers that disagree, a catalog that cannot
 *   answer, a view that cannot be traced) gets the strictest strategy of the statement's
 *   obligations, at least redact.
 */
import { catalogColumn, type CatalogTable } from './catalog-resolver.ts';
import { UNKNOWN_TYPE } from './cell-masker.ts';
import type { MaskObligationIndex, SourceColumn } from './mask-obligation-index.ts';
import { mapColumnsToOutputs, type ColumnOrigin } from './output-column-mapping.ts';
import { strategyForOrigin, unplaceable, type ProvenanceContext } from './provenance-strategy.ts';
import {
  cachedRelationKnowledge,
  gatherRelationKnowledge,
  NOTHING_KNOWN,
  type KnowledgeRequest,
  type OpaqueRelations,
  type RelationKnowledge,
  type RelationLookups,
} from './relation-knowledge.ts';
import type { ResultField } from './row-description.ts';
import type { StatementResultFacts } from './statement-result-facts.ts';
import { BASE_TABLE_KINDS, VIEW_KINDS } from './view-definition.ts';
import { viewColumnNamed } from './view-lineage.ts';

export interface ColumnPlan {
  /** The obligation's strategy for this column; undefined: no obligation covers it. */
  readonly strategy: string | undefined;
  readonly typeOid: number;
  readonly format: number;
}

/**
 * The plan of a result: at once when everything it needs is in the caches (the common case: a
 * session runs the same statements over and over, and the relay then keeps the result's messages
 * together), else a promise of it once the catalog and the view lineages have answered.
 */
export function planResultColumns(
  fields: readonly ResultField[],
  formats: readonly number[],
  facts: StatementResultFacts | undefined,
  obligations: MaskObligationIndex,
  lookups: RelationLookups,
  /** Told of a plan made at once that read the catalog's tables alone (no view names, no lineages): one a memo may keep. */
  madeFromTables?: (plan: ColumnPlan[], tables: ReadonlyMap<number, CatalogTable>) => void,
): ColumnPlan[] | Promise<ColumnPlan[]> {
  const origins = mapColumnsToOutputs(fields.length, facts?.outputs);
  const request = resultRequest(fields, origins, obligations, lookups.opaqueRelations);
  const plan = (knowledge: RelationKnowledge): ColumnPlan[] => planWith(fields, formats, origins, obligations, knowledge, lookups.opaqueRelations, request !== undefined);
  if (!request) {
    const planned = plan(NOTHING_KNOWN);
    madeFromTables?.(planned, NO_TABLES);
    return planned;
  }
  const cached = cachedRelationKnowledge(request, lookups);
  if (!cached) return gatherRelationKnowledge(request, lookups).then(plan);
  const planned = plan(cached);
  if (request.names.length === 0 && cached.lineages.size === 0 && cached.tables) madeFromTables?.(planned, cached.tables);
  return planned;
}

const NO_TABLES: ReadonlyMap<number, CatalogTable> = new Map();

/**
 * What must be known to plan; undefined when nothing is to be masked and no relation or value
 * could come from something policy cannot see into (no look-up; the detectors still run).
 */
function resultRequest(fields: readonly ResultField[], origins: readonly ColumnOrigin[], obligations: MaskObligationIndex, mode: OpaqueRelations): KnowledgeRequest | undefined {
  const tableOids = [...new Set(fields.filter((field) => field.tableOid !== 0).map((field) => field.tableOid))];
  const names = mode === 'show' ? [] : sourceNames(origins.filter((_, index) => fields[index]!.tableOid === 0));
  if (obligations.isEmpty && (mode === 'show' || (tableOids.length === 0 && names.length === 0))) return undefined;
  return { tableOids, names, viewOids: [] };
}

function planWith(
  fields: readonly ResultField[],
  formats: readonly number[],
  origins: readonly ColumnOrigin[],
  obligations: MaskObligationIndex,
  knowledge: RelationKnowledge,
  mode: OpaqueRelations,
  planned: boolean,
): ColumnPlan[] {
  const plan = (strategy: string | undefined, index: number): ColumnPlan => ({
    strategy,
    typeOid: (fields[index] as ResultField).typeOid,
    format: formats[index] ?? 0,
  });
  if (!planned) return fields.map((_, index) => plan(undefined, index));
  const context: ProvenanceContext = { obligations, knowledge, opaqueRelations: mode };
  return fields.map((field, index) => {
    if (field.tableOid !== 0) return plan(strategyForTableColumn(field, context), index);
    return plan(strategyForOrigin(origins[index] ?? { kind: 'unknown' }, context), index);
  });
}

function strategyForTableColumn(field: ResultField, { obligations, knowledge, opaqueRelations }: ProvenanceContext): string | undefined {
  const table = knowledge.tables?.get(field.tableOid);
  if (opaqueRelations === 'show' || (table !== undefined && BASE_TABLE_KINDS.has(table.kind))) {
    const column = table ? catalogColumn(table, field.attnum) : undefined;
    return column ? obligations.forCatalogColumn(column) : obligations.forUnknownColumn();
  }
  if (opaqueRelations === 'trace' && table !== undefined && VIEW_KINDS.has(table.kind)) {
    const lineage = knowledge.lineages.get(table.oid);
    const column = lineage?.kind === 'traced' ? lineage.columns.get(field.attnum)?.lineage : undefined;
    // A view column computed from a masked column (not the column as is) gets the computed strategy.
    if (column?.kind === 'traced') return obligations.forBaseColumns(column.sources, column.transformed);
  }
  // Not a table policy names (a view not traced, a foreign table, one the catalog cannot name).
  return unplaceable(obligations);
}

/** The tables a COPY's lone stars stand for (`COPY users TO STDOUT`, `COPY (SELECT * FROM users) …`). */
export type CopyStarTables = ReadonlyMap<string, CatalogTable | undefined>;

/** What planning COPY rows needs: the star tables through the catalog, and the views involved. */
export interface CopyKnowledge {
  readonly starTables: CopyStarTables;
  readonly knowledge: RelationKnowledge;
}

export const NO_COPY_KNOWLEDGE: CopyKnowledge = { starTables: new Map(), knowledge: NOTHING_KNOWN };

export async function gatherCopyKnowledge(facts: StatementResultFacts | undefined, obligations: MaskObligationIndex, lookups: RelationLookups): Promise<CopyKnowledge> {
  if (obligations.isEmpty && lookups.opaqueRelations === 'show') return NO_COPY_KNOWLEDGE;
  const starTables = new Map<string, CatalogTable | undefined>();
  for (const output of facts?.outputs ?? []) {
    const name = output.star ? output.star_table : undefined;
    if (name && !starTables.has(name)) starTables.set(name, await lookups.catalog.tableByName(name).catch(() => undefined));
  }
  const outputs = facts?.outputs ?? [];
  const request: KnowledgeRequest = {
    tableOids: [],
    names: lookups.opaqueRelations === 'show' ? [] : sourceNames(outputs.map((output) => ({ kind: 'item', output }))),
    viewOids: [...starTables.values()].flatMap((table) => (table && VIEW_KINDS.has(table.kind) ? [table.oid] : [])),
  };
  return { starTables, knowledge: await gatherRelationKnowledge(request, lookups) };
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
  copy: CopyKnowledge,
  mode: OpaqueRelations,
): ColumnPlan[] {
  const plan = (strategy: string | undefined, index: number): ColumnPlan => ({ strategy, typeOid: UNKNOWN_TYPE, format: formats[index] ?? 0 });
  if (obligations.isEmpty && mode === 'show') return Array.from({ length: columnCount }, (_, index) => plan(undefined, index));
  const context: ProvenanceContext = { obligations, knowledge: copy.knowledge, opaqueRelations: mode };
  return mapColumnsToOutputs(columnCount, facts?.outputs).map((origin, index) => {
    const starTable = origin.kind === 'stretch' ? origin.star?.star_table : undefined;
    const table = starTable ? copy.starTables.get(starTable) : undefined;
    if (origin.kind === 'stretch' && table && table.columnOrder.length === origin.width) {
      return plan(strategyForStarColumn(table, table.columnOrder[origin.position] as string, context), index);
    }
    return plan(strategyForOrigin(origin, context), index);
  });
}

function strategyForStarColumn(table: CatalogTable, column: string, { obligations, knowledge, opaqueRelations }: ProvenanceContext): string | undefined {
  if (opaqueRelations === 'show' || BASE_TABLE_KINDS.has(table.kind)) return obligations.forCatalogColumn({ schema: table.schema, table: table.table, column });
  const lineage = opaqueRelations === 'trace' && VIEW_KINDS.has(table.kind) ? knowledge.lineages.get(table.oid) : undefined;
  const traced = lineage?.kind === 'traced' ? viewColumnNamed(lineage, column) : undefined;
  return traced?.kind === 'traced' ? obligations.forBaseColumns(traced.sources, traced.transformed) : unplaceable(obligations);
}

/** Every relation name the provenance of these columns mentions, lower case. */
function sourceNames(origins: readonly ColumnOrigin[]): string[] {
  const sources: SourceColumn[] = origins.flatMap((origin) => {
    if (origin.kind === 'item') return [...origin.output.derived_from];
    if (origin.kind === 'stretch') return origin.outputs.flatMap((output) => [...output.derived_from]);
    return [];
  });
  return [...new Set(sources.map((source) => source.table.toLowerCase()))];
}
