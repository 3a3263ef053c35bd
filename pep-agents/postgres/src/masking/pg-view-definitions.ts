/**
 * ViewDefinitionSource over the PEP's own catalog connection (never a client's session):
 * pg_get_viewdef for the SQL, pg_attribute for the columns, pg_depend for what the view's rule
 * reads and calls. One query per view; callers cache.
 */
import type { CatalogQueryRunner } from './pg-catalog-resolver.ts';
import type { ViewColumn, ViewDefinition, ViewDefinitionSource, ViewDependency } from './view-definition.ts';

// The `_RETURN` rule is what a view (and a materialized view's refresh) runs; its pg_depend rows
// are what the server bound the query to. Every name is schema-qualified: the catalog session's
// search_path has no say in what this reads.
const DEFINITION_BY_OID = `
  SELECT c.oid::pg_catalog.int8 AS oid, n.nspname AS schema_name, c.relname AS view_name, c.relkind::pg_catalog.text AS kind,
         pg_catalog.pg_get_viewdef(c.oid, true) AS definition,
         (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('attnum', a.attnum, 'name', a.attname) ORDER BY a.attnum)
            FROM pg_catalog.pg_attribute a
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
         (SELECT pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object('oid', r.oid::pg_catalog.int8, 'kind', r.relkind::pg_catalog.text, 'schema', rn.nspname, 'name', r.relname))
            FROM pg_catalog.pg_depend d
            JOIN pg_catalog.pg_class r ON r.oid = d.refobjid
            JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
           WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = rw.oid
             AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid <> c.oid) AS dependencies,
         EXISTS (SELECT FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = rw.oid
                    AND d.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass, 'pg_catalog.pg_operator'::pg_catalog.regclass)) AS calls_user_code
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = c.oid AND rw.rulename = '_RETURN'
   WHERE c.oid = $1::pg_catalog.oid AND c.relkind IN ('v', 'm')`;

const VIEWS_BY_NAME = `
  SELECT pg_catalog.lower(c.relname) AS name, c.oid::pg_catalog.int8 AS oid
    FROM pg_catalog.pg_class c
   WHERE c.relkind IN ('v', 'm') AND pg_catalog.lower(c.relname) = ANY ($1::pg_catalog.text[])`;

export class PgViewDefinitions implements ViewDefinitionSource {
  constructor(private readonly connection: CatalogQueryRunner) {}

  async definitionOf(oid: number): Promise<ViewDefinition | undefined> {
    const { rows } = await this.connection.query(DEFINITION_BY_OID, [String(oid)]);
    const row = rows[0];
    if (!row || typeof row.definition !== 'string') return undefined;
    return {
      oid: Number(row.oid),
      schema: String(row.schema_name),
      name: String(row.view_name),
      kind: String(row.kind),
      sql: row.definition,
      columns: readColumns(row.columns),
      dependencies: readDependencies(row.dependencies),
      callsUserCode: row.calls_user_code === true,
    };
  }

  async viewsNamed(names: readonly string[]): Promise<ReadonlyMap<string, readonly number[]>> {
    const found = new Map<string, number[]>();
    if (names.length === 0) return found;
    const { rows } = await this.connection.query(VIEWS_BY_NAME, [[...new Set(names)]]);
    for (const row of rows) {
      const name = String(row.name);
      found.set(name, [...(found.get(name) ?? []), Number(row.oid)]);
    }
    return found;
  }
}

// node-postgres parses json columns; anything else than the shapes above reads as nothing, which
// the tracer then finds does not line up (and redacts).
function readColumns(value: unknown): ViewColumn[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: { attnum?: unknown; name?: unknown }) =>
    typeof item?.attnum === 'number' && typeof item.name === 'string' ? [{ attnum: item.attnum, name: item.name }] : []);
}

function readDependencies(value: unknown): ViewDependency[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: { oid?: unknown; kind?: unknown; schema?: unknown; name?: unknown }) =>
    typeof item?.kind === 'string' && typeof item.schema === 'string' && typeof item.name === 'string' && Number.isInteger(Number(item.oid))
      ? [{ oid: Number(item.oid), kind: item.kind, schema: item.schema, name: item.name }]
      : []);
}
