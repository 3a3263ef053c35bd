/**
 * A view (or materialized view) as the catalog describes it: its SQL, its columns, and what the
 * server bound it to when it was created. Views refer to relations by OID, not by name, so the
 * relations come from pg_depend (exactly those the server resolved, whatever the search_path),
 * and the SQL is only read for which column is computed from which.
 */

/** OIDs below this are assigned by initdb: system catalogs, system views, built-in functions. */
export const FIRST_NORMAL_OBJECT_ID = 16384;

/** A relation the view's query reads. */
export interface ViewDependency {
  readonly oid: number;
  /** pg_class.relkind: 'r' table, 'p' partitioned table, 'v' view, 'm' materialized view, 'f' foreign table … */
  readonly kind: string;
  readonly schema: string;
  readonly name: string;
}

export interface ViewColumn {
  readonly attnum: number;
  readonly name: string;
}

export interface ViewDefinition {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** 'v' or 'm'. */
  readonly kind: string;
  /** pg_get_viewdef: one SELECT whose target list gives the view's columns, in order. */
  readonly sql: string;
  /** Live columns, in attribute order. */
  readonly columns: readonly ViewColumn[];
  readonly dependencies: readonly ViewDependency[];
  /**
   * The query calls a function or operator that is not built in (pg_depend records those; built-in
   * ones are pinned and never recorded): code that may read anything, whatever its arguments.
   */
  readonly callsUserCode: boolean;
}

export interface ViewDefinitionSource {
  /** Undefined when the OID is not a view or materialized view (any more). */
  definitionOf(oid: number): Promise<ViewDefinition | undefined>;
  /** Views and materialized views of each name (lower case, any schema): name → OIDs; absent names have none. */
  viewsNamed(names: readonly string[]): Promise<ReadonlyMap<string, readonly number[]>>;
}

export const VIEW_KINDS: ReadonlySet<string> = new Set(['v', 'm']);
/** Relations whose columns are the ones policy names: tables and partitioned tables. */
export const BASE_TABLE_KINDS: ReadonlySet<string> = new Set(['r', 'p']);
