/**
 * The output provenance of one SELECT, for a PEP that needs it outside a decision: the Postgres
 * PEP reads a view's definition from the catalog and asks which base columns each of the view's
 * columns is computed from. The same analyzer as decisions, so the answer means what
 * `outputs` means in a decision's enrichment (docs/policy-input.md).
 */
import { PortcullisError } from "../errors/portcullis-error.ts";
import type { SqlAnalyzer, SqlOutput } from "./sql-analyzer.ts";

export interface SelectOutputs {
  /** One entry per target-list item, in order. */
  outputs: SqlOutput[];
  /** Every function the statement calls anywhere, lower case, schema dropped (as `functions` in policy input). */
  functions: string[];
}

/** Throws `invalid-request` for anything but exactly one row-returning SELECT (or VALUES). */
export function selectOutputs(analyzer: SqlAnalyzer, sql: string): SelectOutputs {
  const analysis = analyzer.analyze(sql);
  if (analysis.parse_error !== null) refuse(`it does not parse: ${analysis.parse_error}`);
  if (analysis.statements.length !== 1) refuse(`it holds ${analysis.statements.length} statements`);
  const statement = analysis.statements[0]!;
  // DECLARE … CURSOR is described as its query; only the node tells it apart.
  if (statement.node !== "SelectStmt" || statement.outputs === null) refuse("it is not a SELECT that returns rows");
  return { outputs: statement.outputs, functions: statement.functions };
}

function refuse(why: string): never {
  throw new PortcullisError("invalid-request", `sql must be exactly one row-returning SELECT; ${why}`, { field: "sql" });
}
