/**
 * The shape of `input.action` for SQL, as fixed by docs/policy-input.md (`action.type == "sql"`).
 * Field names are snake_case because Rego reads them as-is.
 */
import type { SqlParameterV1 } from "@portcullis/contract";

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
  | "cursor"
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

/** A column a statement's output reads; column "*" is the table's whole row (every column). */
export interface SqlSourceColumn {
  /** Unqualified relation name, lower case, as in `tables`. */
  table: string;
  column: string;
}

/** One target-list item of a row-returning statement, in order. */
export interface SqlOutput {
  /** The column name PostgreSQL gives the item (its alias, column or function name, "?column?"); "*" for a star. */
  name: string;
  /** `*` or `q.*`: expands into several result columns. */
  star: boolean;
  /** The one base table a star expands, when it is one (null: several relations, a subquery, a CTE). */
  star_table: string | null;
  /** A plain column reference that resolves to exactly one base-table column. */
  direct: SqlSourceColumn | null;
  /**
   * The value is a source column's value itself: a column reference, through subqueries, CTEs,
   * set operations whose arms agree, casts to text or unbounded varchar, COLLATE and
   * upper/lower/initcap. False for anything computed (reverse, split_part, substr, ||, format,
   * json building …), where a mask that keeps part of the value would keep the wrong part.
   */
  is_value: boolean;
  /** Every column the item's value is computed from, sorted; over-attributed whenever unsure. */
  derived_from: SqlSourceColumn[];
}

export interface SqlCopyFacts {
  program: boolean;
  filename: string | null;
  is_from: boolean;
}

/** How COPY writes (or reads) its rows, PostgreSQL's defaults filled in. */
export interface SqlCopyFormat {
  format: "text" | "csv" | "binary";
  /** One character ("" for binary). */
  delimiter: string;
  /** The text that stands for NULL ("\\N" in text format, "" in CSV). */
  null_string: string;
  /** CSV only (null otherwise). */
  quote: string | null;
  escape: string | null;
  /** CSV: the first line names the columns. */
  header: boolean;
}

/** What a statement does to a cursor: DECLARE opens it, FETCH and MOVE read it, CLOSE ends it. */
export type SqlCursorOperation = "declare" | "fetch" | "move" | "close";

export interface SqlCursorFacts {
  /** The cursor's name as the server knows it (unquoted names lower-cased); null for CLOSE ALL. */
  name: string | null;
  operation: SqlCursorOperation;
  /** DECLARE … WITH HOLD: the cursor outlives the commit of its transaction. False otherwise. */
  hold: boolean;
}

export interface SqlSetFacts {
  name: string;
  local: boolean;
}

/** What a call invokes: a function, an operator, a cast to a type (typed literals too), a TABLESAMPLE method. */
export type SqlCallKind = "function" | "operator" | "cast" | "tablesample";

/** One routine the statement makes the server run, named as written (case kept). */
export interface SqlCall {
  kind: SqlCallKind;
  /** The schema written before the name; null when unqualified. */
  schema: string | null;
  name: string;
}

/** How a statement changes a setting (docs/policy-input.md, `settings`). */
export type SqlSettingRoute =
  | "set"
  | "reset"
  | "set_config"
  | "pg_settings"
  | "alter-role"
  | "alter-database"
  | "alter-system"
  | "function-set";

export interface SqlSettingChange {
  route: SqlSettingRoute;
  /** Lower case; "all" for RESET ALL / DISCARD ALL; null when the text does not say which (computed). */
  name: string | null;
  /** The value as written, when it is a constant (a list joined with ", "); null otherwise. */
  value: string | null;
  /** literal: `value` holds it; computed: known only at run time; default: RESET / TO DEFAULT; current: FROM CURRENT. */
  value_kind: "literal" | "computed" | "default" | "current";
  /** SET LOCAL: until the end of the transaction. */
  local: boolean;
}

export interface SqlCredential {
  kind: "password" | "connection" | "option" | "setting" | "function-argument";
  name: string | null;
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
  /** Every function, operator, cast and TABLESAMPLE method invoked anywhere, sorted, each once. */
  calls: SqlCall[];
  writes: boolean;
  /** A locking clause (FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE) anywhere: rows are locked. */
  locking: boolean;
  explain_analyze: boolean;
  copy: SqlCopyFacts | null;
  /** COPY to the client or from it: the row format a PEP must read. Null otherwise. */
  copy_format: SqlCopyFormat | null;
  set: SqlSetFacts | null;
  /** Every setting the statement changes, by any route (SET, set_config, pg_settings, ALTER … SET, function SET clauses). */
  settings: SqlSettingChange[];
  /**
   * The credentials the statement's text carries (role passwords, connection strings, credential
   * options and settings, secret function arguments): their kind and the option, setting or
   * function they belong to. Their values are redacted from `text` and `sql` and never reported.
   */
  credentials: SqlCredential[];
  /** DECLARE, FETCH, MOVE, CLOSE: the cursor it is about. Null otherwise. */
  cursor: SqlCursorFacts | null;
  /**
   * The columns the statement returns to the client, in order (SELECT, VALUES, set operations,
   * RETURNING, COPY … TO STDOUT, EXPLAIN, SHOW; DECLARE CURSOR: its query's). Null when the text does not describe what comes
   * back (EXECUTE, FETCH, CALL) or nothing does (DDL, DML without RETURNING, SELECT INTO).
   */
  outputs: SqlOutput[] | null;
}

// A type, not an interface: it is also a plain JSON record (audit, approvals).
export type EnrichedSqlAction = {
  type: "sql";
  sql: string;
  parse_error: string | null;
  /** When the parser itself rejected the text: PostgreSQL's message and 1-based character position. */
  syntax_error?: SqlSyntaxError;
  statements: SqlStatementFacts[];
  /** The values one execution binds to $1, $2 … as the PEP sent them (added by the enricher, not the analysis). */
  parameters?: SqlParameterV1[];
};

export interface SqlSyntaxError {
  message: string;
  position: number;
}
