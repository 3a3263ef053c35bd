/**
 * CatalogResolver over a connection the PEP owns (never the client's session, whose transaction
 * state and rights it must not disturb): pg_class, pg_namespace and pg_attribute, one query for
 * all the OIDs of a RowDescription, each table cached for a while.
 */
import type { CatalogResolver, CatalogTable } from './catalog-resolver.ts';

/** What the resolver needs of a connection; a `pg` Client or Pool fits. */
export interface CatalogQueryRunner {
  query(text: string, values: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export interface PgCatalogResolverOptions {
  /**
   * How long a table's description is trusted. A column renamed or added later is seen after
   * this; until then the old name is used (which can only mask more, unless a non-sensitive
   * column is renamed to a sensitive name).
   */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

const TABLES_BY_OID = `
  SELECT c.oid::int8 AS oid, n.nspname AS schema_name, c.relname AS table_name, c.relkind::text AS kind, a.attnum AS attnum, a.attname AS column_name
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE c.oid = ANY ($1::pg_catalog.oid[])
   ORDER BY c.oid, a.attnum`;

const OID_BY_NAME = 'SELECT pg_catalog.to_regclass($1)::int8 AS oid';

const DEFAULT_TTL_MS = 60_000;

interface Cached {
  readonly table: CatalogTable;
  readonly expires: number;
}

export class PgCatalogResolver implements CatalogResolver {
  private readonly cache = new Map<number, Cached>();
  /** Look-ups under way, so concurrent statements share one query per OID. */
  private readonly inFlight = new Map<number, Promise<CatalogTable | undefined>>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly connection: CatalogQueryRunner,
    options: PgCatalogResolverOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  cachedTablesByOid(oids: readonly number[]): ReadonlyMap<number, CatalogTable> | undefined {
    const found = new Map<number, CatalogTable>();
    const now = this.now();
    for (const oid of oids) {
      const cached = this.cache.get(oid);
      if (!cached || cached.expires <= now) return undefined;
      found.set(oid, cached.table);
    }
    return found;
  }

  async tablesByOid(oids: readonly number[]): Promise<ReadonlyMap<number, CatalogTable>> {
    const found = new Map<number, CatalogTable>();
    const missing: number[] = [];
    const waits: Array<Promise<void>> = [];
    for (const oid of new Set(oids)) {
      if (!isOid(oid)) continue;
      const cached = this.cache.get(oid);
      if (cached && cached.expires > this.now()) {
        found.set(oid, cached.table);
        continue;
      }
      const pending = this.inFlight.get(oid);
      if (pending) {
        waits.push(pending.then((table) => void (table && found.set(oid, table))));
        continue;
      }
      missing.push(oid);
    }
    if (missing.length > 0) {
      const query = this.load(missing);
      for (const oid of missing) {
        const one = query.then((tables) => tables.get(oid));
        this.inFlight.set(oid, one);
        waits.push(one.then((table) => void (table && found.set(oid, table))));
      }
      query.finally(() => {
        for (const oid of missing) this.inFlight.delete(oid);
      }).catch(() => undefined);
    }
    await Promise.all(waits);
    return found;
  }

  async tableByName(name: string): Promise<CatalogTable | undefined> {
    const { rows } = await this.connection.query(OID_BY_NAME, [name]);
    const oid = Number(rows[0]?.oid ?? Number.NaN);
    if (!isOid(oid)) return undefined;
    return (await this.tablesByOid([oid])).get(oid);
  }

  private async load(oids: readonly number[]): Promise<Map<number, CatalogTable>> {
    const { rows } = await this.connection.query(TABLES_BY_OID, [oids.map(String)]);
    const building = new Map<number, { schema: string; table: string; kind: string; columns: Map<number, string>; order: string[] }>();
    for (const row of rows) {
      const oid = Number(row.oid);
      let entry = building.get(oid);
      if (!entry) {
        entry = { schema: String(row.schema_name), table: String(row.table_name), kind: String(row.kind), columns: new Map(), order: [] };
        building.set(oid, entry);
      }
      if (row.attnum !== null && row.column_name !== null) {
        entry.columns.set(Number(row.attnum), String(row.column_name));
        entry.order.push(String(row.column_name));
      }
    }
    const expires = this.now() + this.ttlMs;
    const tables = new Map<number, CatalogTable>();
    for (const [oid, entry] of building) {
      const table: CatalogTable = { oid, schema: entry.schema, table: entry.table, kind: entry.kind, columns: entry.columns, columnOrder: entry.order };
      tables.set(oid, table);
      this.cache.set(oid, { table, expires });
    }
    return tables;
  }
}

function isOid(value: number): boolean {
  return Number.isInteger(value) && value > 0 && value <= 0xffffffff;
}
