/**
 * The shape of `input.action` for SQL, as fixed by docs/policy-input.md (`action.type == "sql"`).
 * Field names are snake_case because Rego reads them as-is.
 */

export type SqlStatementKind =
  | "select"
  | "insert"
  | "update"
  | "delete"
  | "merge"
  | "show"
  | "explain"
  | "transaction"
  | "set"
  | "ddl"
  | "grant"
  | "role"
  | "truncate"
  | "copy"
  | "do"
  | "call"
  | "prepare"
  | "execute"
  | "deallocate"
  | "maintenance"
  | "listen"
  | "lock"
  | "other";

export type SqlOperationKind = "select" | "insert" | "update" | "delete" | "merge";

export interface SqlOperation {
  kind: SqlOperationKind;
  /** Unqualified relation name, lower case; null for a select without a relation. */
  table: string | null;
  schema: string | null;
  /** Update/delete only (false = every row); null for select, insert and merge. */
  has_where: boolean | null;
}

export interface SqlColumnRef {
  /** Null when the relation cannot be told (unqualified with several candidates, subquery, CTE). */
  table: string | null;
  column: string;
}

export interface SqlCopyFacts {
  program: boolean;
  filename: string | null;
  is_from: boolean;
}

export interface SqlSetFacts {
  name: string;
  local: boolean;
}

export interface SqlStatementFacts {
  kind: SqlStatementKind;
  node: string;
  text: string;
  operations: SqlOperation[];
  tables: string[];
  columns: SqlColumnRef[];
  star_tables: string[];
  functions: string[];
  writes: boolean;
  explain_analyze: boolean;
  copy: SqlCopyFacts | null;
  set: SqlSetFacts | null;
}

export interface EnrichedSqlAction {
  type: "sql";
  sql: string;
  parse_error: string | null;
  statements: SqlStatementFacts[];
}
