/**
 * Where a result column really comes from. RowDescription carries each column's table OID and
 * attribute number; only the catalog turns them into names an obligation can be matched
 * against, and only the catalog lists the columns `COPY users TO STDOUT` sends.
 */

/** One column of a table, as the catalog names it. */
export interface CatalogColumn {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
}

export interface CatalogTable {
  readonly oid: number;
  readonly schema: string;
  readonly table: string;
  /** pg_class.relkind: 'r' table, 'p' partitioned table, 'v' view, 'm' materialized view, 'f' foreign table … */
  readonly kind: string;
  /** Live columns (attnum > 0, not dropped) by attribute number. */
  readonly columns: ReadonlyMap<number, string>;
  /** The same in attribute order: what `*` and `COPY table` send. */
  readonly columnOrder: readonly string[];
}

export interface CatalogResolver {
  /** The tables behind these OIDs; an OID the catalog does not know is absent from the answer. */
  tablesByOid(oids: readonly number[]): Promise<ReadonlyMap<number, CatalogTable>>;
  /** The same answer without waiting, when every OID is cached and fresh; undefined otherwise. */
  cachedTablesByOid?(oids: readonly number[]): ReadonlyMap<number, CatalogTable> | undefined;
  /**
   * A table named the way a statement names it (`users`, `public.users`), resolved as the
   * server would. Undefined when there is no such table.
   */
  tableByName(name: string): Promise<CatalogTable | undefined>;
}

export function catalogColumn(table: CatalogTable, attnum: number): CatalogColumn | undefined {
  const column = table.columns.get(attnum);
  return column === undefined ? undefined : { schema: table.schema, table: table.table, column };
}
