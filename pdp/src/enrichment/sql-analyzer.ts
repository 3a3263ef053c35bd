/**
 * SQL enrichment: the text an agent sends, read by the real PostgreSQL parser (libpg-query,
 * WASM) and reduced to the facts policy decides on (docs/policy-input.md, `action.type ==
 * "sql"`). Never guesses: whatever the parser rejects becomes `parse_error`, which policy denies.
 */
import { loadModule, parseSync } from "libpg-query";
import { AnalysisCache } from "./analysis-cache.ts";
import { isAstObject, listField, unwrapNode, type AstObject } from "./sql/ast-nodes.ts";
import { credentialsWithin, findCredentialSpans, isCredentialName, redactedMessage, redactedSlice, type CredentialScan } from "./sql/credential-spans.ts";
import { cursorFacts } from "./sql/cursor-facts.ts";
import type { EnrichedSqlAction, SqlStatementFacts, SqlSyntaxError } from "./sql/sql-facts.ts";
import { statementOutputs } from "./sql/output-provenance.ts";
import { statementKind } from "./sql/statement-kinds.ts";
import { walkStatement } from "./sql/statement-walker.ts";
import { settingChanges } from "./sql/setting-changes.ts";
import { copyFacts, copyFormatFacts, explainAnalyzes, setFacts } from "./sql/utility-facts.ts";

export type {
  EnrichedSqlAction,
  SqlCall,
  SqlCallKind,
  SqlColumnRef,
  SqlCopyFacts,
  SqlCopyFormat,
  SqlCursorFacts,
  SqlCursorOperation,
  SqlOperation,
  SqlOperationKind,
  SqlOutput,
  SqlSetFacts,
  SqlSettingChange,
  SqlSettingRoute,
  SqlSourceColumn,
  SqlStatementFacts,
  SqlStatementKind,
  SqlSyntaxError,
} from "./sql/sql-facts.ts";

export interface SqlAnalyzer {
  /** Never throws: every failure is reported as `parse_error` with no statements. */
  analyze(sql: string): EnrichedSqlAction;
}

/** Larger input is refused before parsing: parse time and tree size grow with it. */
export const MAX_SQL_BYTES = 256 * 1024;

/**
 * Analyses kept for repeated texts (a PEP sends the same statements again and again; parsing and
 * walking one costs tens to hundreds of microseconds), and the longest text kept. An analysis is
 * a pure function of the text; a kept one is frozen all the way down (analysis-cache.ts).
 */
const CACHED_ANALYSES = 2048;
const MAX_CACHED_SQL_LENGTH = 4096;

/** Loads the parser's WASM module once; `analyze` is synchronous afterwards. */
export async function createSqlAnalyzer(): Promise<SqlAnalyzer> {
  await loadModule();
  const cache = new AnalysisCache<EnrichedSqlAction>(CACHED_ANALYSES, MAX_CACHED_SQL_LENGTH);
  return {
    analyze: (sql) => {
      if (typeof sql !== "string") return analyze(sql);
      return cache.get(sql) ?? cache.remember(sql, analyze(sql));
    },
  };
}

function analyze(sql: string): EnrichedSqlAction {
  const refusal = refuseInput(sql);
  // A refused text is still recorded: its secrets are replaced like any other's.
  if (refusal !== null) return typeof sql === "string" ? failed(sql, refusal, findCredentialSpans(sql)) : failed("", refusal, NOTHING_SECRET);
  // Secrets (role passwords, connection strings …) never leave the analysis: the text, statement
  // texts and parse errors policy and the audit trail get have them replaced.
  const scan = findCredentialSpans(sql);
  let tree: unknown;
  try {
    tree = parseSync(sql);
  } catch (error) {
    return { ...failed(sql, error instanceof Error && error.message ? error.message : "unparseable SQL", scan), ...syntaxError(error, sql, scan) };
  }
  try {
    const bytes = Buffer.from(sql, "utf8");
    const statements = describeStatements(bytes, tree, scan);
    if (statements.length === 0) return failed(sql, "empty statement", scan);
    return { type: "sql", sql: redactedText(sql, bytes, scan), parse_error: null, statements };
  } catch (error) {
    // A tree too deep for the walker (or any surprise) must deny, not crash the PDP.
    const reason = error instanceof Error ? error.message : String(error);
    return failed(sql, `analysis failed: ${reason}`, scan);
  }
}

const NOTHING_SECRET: CredentialScan = { spans: [], withheldFrom: null };

/** The whole text with its secrets replaced (untrimmed when there are none, as it came). */
function redactedText(sql: string, bytes: Buffer, scan: CredentialScan): string {
  return scan.spans.length === 0 && scan.withheldFrom === null ? sql : redactedSlice(bytes, scan);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function refuseInput(sql: string): string | null {
  if (typeof sql !== "string") return "sql is not a string";
  if (sql.trim() === "") return "empty statement";
  if (Buffer.byteLength(sql, "utf8") > MAX_SQL_BYTES) return `statement larger than ${MAX_SQL_BYTES} bytes`;
  // The parser reads a C string: text after a NUL would be invisible to it but not to whatever
  // forwards the original bytes.
  if (sql.includes("\u0000")) return "NUL character in SQL";
  // A lone surrogate has no UTF-8 form: what the parser sees would differ from what is sent.
  if (LONE_SURROGATE.test(sql)) return "SQL is not well-formed Unicode";
  return null;
}

// libpg-query reports PostgreSQL's own message and a 0-based character offset; a secret the
// message quotes is replaced as in parse_error.
function syntaxError(error: unknown, sql: string, scan: CredentialScan): { syntax_error?: SqlSyntaxError } {
  const details = (error as { sqlDetails?: { message?: unknown; cursorPosition?: unknown } } | null)?.sqlDetails;
  if (typeof details?.message !== "string" || typeof details.cursorPosition !== "number") return {};
  return { syntax_error: { message: redactedMessage(details.message, Buffer.from(sql, "utf8"), scan), position: details.cursorPosition + 1 } };
}

function failed(sql: string, reason: string, scan: CredentialScan): EnrichedSqlAction {
  const bytes = Buffer.from(sql, "utf8");
  return { type: "sql", sql: redactedText(sql, bytes, scan), parse_error: redactedMessage(reason, bytes, scan), statements: [] };
}

function describeStatements(bytes: Buffer, tree: unknown, scan: CredentialScan): SqlStatementFacts[] {
  if (!isAstObject(tree)) throw new Error("parser returned no tree");
  return listField(tree, "stmts").map((raw) => {
    if (!isAstObject(raw)) throw new Error("malformed statement");
    const node = unwrapNode(raw.stmt);
    if (!node) throw new Error("malformed statement");
    // stmt_location/stmt_len count UTF-8 bytes, not UTF-16 code units; stmt_len 0 (omitted) means "to the end".
    const start = typeof raw.stmt_location === "number" ? raw.stmt_location : 0;
    const end = typeof raw.stmt_len === "number" && raw.stmt_len > 0 ? start + raw.stmt_len : bytes.length;
    const facts = describeStatement(node.type, node.body, raw.stmt, redactedSlice(bytes, scan, start, end));
    return withoutSecrets(facts, credentialsWithin(scan, start, end));
  });
}

/**
 * Policy is told that a credential is set (its kind), never what it is: setting values included,
 * and the value of a setting whose name is computed (it may be a credential's).
 */
function withoutSecrets(facts: SqlStatementFacts, credentials: SqlStatementFacts["credentials"]): SqlStatementFacts {
  const settings = facts.settings.map((change) =>
    change.value !== null && (change.name === null || isCredentialName(change.name)) ? { ...change, value: "[redacted]" } : change,
  );
  return { ...facts, settings, credentials };
}

function describeStatement(node: string, body: AstObject, root: unknown, text: string): SqlStatementFacts {
  const walked = walkStatement(root);
  return {
    kind: statementKind(node, body),
    node,
    text,
    operations: walked.operations,
    tables: walked.tables,
    columns: walked.columns,
    star_tables: walked.star_tables,
    functions: walked.functions,
    calls: walked.calls,
    writes: walked.writes,
    locking: walked.locking,
    explain_analyze: node === "ExplainStmt" && explainAnalyzes(body),
    copy: node === "CopyStmt" ? copyFacts(body) : null,
    copy_format: node === "CopyStmt" ? copyFormatFacts(body) : null,
    set: setFacts(node, body),
    settings: settingChanges(node, body, root, walked.operations, text),
    credentials: [],
    cursor: cursorFacts(node, body),
    outputs: statementOutputs(node, body, root),
  };
}
