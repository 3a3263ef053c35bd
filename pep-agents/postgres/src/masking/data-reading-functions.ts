/**
 * Built-in functions whose result is not computed from their arguments' values: they run a query
 * given as text, read a table, schema or database given by name, read files, large objects,
 * other sessions' statements or decoded WAL. Output provenance takes `f(x)` to come from `x`
 * alone, which is false for these, so a view calling one is not traced (it is redacted whole).
 * Policy keeps the same functions out of statements (sql_rules.forbidden_functions), but never
 * sees a view's query. Functions that are not built in never get this far: the catalog says a
 * view calls them (ViewDefinition.callsUserCode).
 */
const NAMES: ReadonlySet<string> = new Set([
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema',
  'cursor_to_xml', 'cursor_to_xmlschema',
  'table_to_xml', 'table_to_xmlschema', 'table_to_xml_and_xmlschema',
  'schema_to_xml', 'schema_to_xmlschema', 'schema_to_xml_and_xmlschema',
  'database_to_xml', 'database_to_xmlschema', 'database_to_xml_and_xmlschema',
  'ts_stat', 'ts_rewrite',
  'pg_stat_file', 'pg_current_logfile', 'loread',
]);

const PREFIXES: readonly string[] = [
  'pg_read_', // pg_read_file, pg_read_binary_file
  'pg_ls_', // directory listings
  'lo_', // large objects
  'pg_stat_get_', // other sessions' activity, their statements' text
  'pg_logical_slot_', // decoded changes: rows as written
  'dblink', // other databases (an extension, but the name is unmistakable)
];

export function readsBeyondItsArguments(functionName: string): boolean {
  const name = functionName.toLowerCase();
  return NAMES.has(name) || PREFIXES.some((prefix) => name.startsWith(prefix));
}
