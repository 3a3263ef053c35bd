/**
 * What planning a result needs from the catalog and the view tracer, gathered before its rows
 * arrive: the tables behind RowDescription's OIDs, which names in the statement's provenance are
 * views, and the lineage of each view involved. From the caches at once when everything is kept
 * (the common case), else looked up.
 */
import type { CatalogResolver, CatalogTable } from './catalog-resolver.ts';
import { VIEW_KINDS } from './view-definition.ts';
import type { ViewLineage } from './view-lineage.ts';
import type { ViewLineageSource } from './view-lineage-resolver.ts';

/**
 * How columns of relations whose columns policy does not name (views, materialized views,
 * foreign tables, system views) are masked:
 * - `show`: like any other column (a principal who reads personal data in clear);
 * - `redact`: redacted whole, as are values computed from a view;
 * - `trace`: a view's columns by the base columns they are computed from (the decision's
 *   obligations name every sensitive column: `mask_complete`), whatever cannot be traced
 *   redacted whole.
 */
export type OpaqueRelations = 'show' | 'redact' | 'trace';

export interface RelationLookups {
  readonly catalog: CatalogResolver;
  /** Without it names are not checked for views, and `trace` acts as `redact`. */
  readonly views?: ViewLineageSource | undefined;
  readonly opaqueRelations: OpaqueRelations;
}

export interface KnowledgeRequest {
  /** RowDescription's table OIDs. */
  readonly tableOids: readonly number[];
  /** Relation names in the provenance of columns the server does not tie to a relation (lower case). */
  readonly names: readonly string[];
  /** Views whose lineage is needed besides those found above (a COPY's star table). */
  readonly viewOids: readonly number[];
}

export interface RelationKnowledge {
  /** Undefined: the catalog failed, and every table column counts as unplaceable. */
  readonly tables: ReadonlyMap<number, CatalogTable> | undefined;
  /** The views of each requested name; undefined: the look-up failed, so any name may be one. */
  readonly viewsByName: ReadonlyMap<string, readonly number[]> | undefined;
  /** By view OID (`trace` only). */
  readonly lineages: ReadonlyMap<number, ViewLineage>;
}

export const NOTHING_KNOWN: RelationKnowledge = { tables: new Map(), viewsByName: new Map(), lineages: new Map() };

export async function gatherRelationKnowledge(request: KnowledgeRequest, lookups: RelationLookups): Promise<RelationKnowledge> {
  const [tables, viewsByName] = await Promise.all([tablesOf(request.tableOids, lookups.catalog), viewsOf(request.names, lookups)]);
  const lineages = new Map<number, ViewLineage>();
  const views = tracing(lookups);
  if (views) {
    const found = await Promise.all(viewOidsToTrace(request, tables, viewsByName).map((oid) => views.lineageOf(oid)));
    for (const lineage of found) lineages.set(lineage.oid, lineage);
  }
  return { tables, viewsByName, lineages };
}

/** The same knowledge when every part of it is kept and fresh; undefined when something must be looked up. */
export function cachedRelationKnowledge(request: KnowledgeRequest, lookups: RelationLookups): RelationKnowledge | undefined {
  let tables: ReadonlyMap<number, CatalogTable> | undefined = new Map();
  if (request.tableOids.length > 0) {
    tables = lookups.catalog.cachedTablesByOid?.(request.tableOids);
    if (!tables) return undefined;
  }
  let viewsByName: ReadonlyMap<string, readonly number[]> | undefined = new Map();
  if (checksNames(request, lookups)) {
    viewsByName = lookups.views!.cachedViewsNamed(request.names);
    if (!viewsByName) return undefined;
  }
  const lineages = new Map<number, ViewLineage>();
  const views = tracing(lookups);
  if (views) {
    for (const oid of viewOidsToTrace(request, tables, viewsByName)) {
      const lineage = views.cachedLineageOf(oid);
      if (!lineage) return undefined;
      lineages.set(oid, lineage);
    }
  }
  return { tables, viewsByName, lineages };
}

function tracing(lookups: RelationLookups): ViewLineageSource | undefined {
  return lookups.opaqueRelations === 'trace' ? lookups.views : undefined;
}

function checksNames(request: KnowledgeRequest, lookups: RelationLookups): boolean {
  return request.names.length > 0 && lookups.views !== undefined && lookups.opaqueRelations !== 'show';
}

function viewOidsToTrace(request: KnowledgeRequest, tables: ReadonlyMap<number, CatalogTable> | undefined, viewsByName: ReadonlyMap<string, readonly number[]> | undefined): number[] {
  const oids = new Set(request.viewOids);
  for (const table of tables?.values() ?? []) if (VIEW_KINDS.has(table.kind)) oids.add(table.oid);
  for (const found of viewsByName?.values() ?? []) for (const oid of found) oids.add(oid);
  return [...oids];
}

async function tablesOf(oids: readonly number[], catalog: CatalogResolver): Promise<ReadonlyMap<number, CatalogTable> | undefined> {
  if (oids.length === 0) return new Map();
  try {
    return await catalog.tablesByOid(oids);
  } catch {
    return undefined;
  }
}

async function viewsOf(names: readonly string[], lookups: RelationLookups): Promise<ReadonlyMap<string, readonly number[]> | undefined> {
  if (!checksNames({ tableOids: [], names, viewOids: [] }, lookups)) return new Map();
  try {
    return await lookups.views!.viewsNamed(names);
  } catch {
    return undefined;
  }
}
