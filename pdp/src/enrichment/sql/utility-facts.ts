/**
 * Facts that only a top-level utility statement carries: EXPLAIN's ANALYZE option, COPY's
 * target, SET/RESET's variable.
 */
import {
  booleanField,
  listField,
  stringField,
  unwrapNode,
  type AstObject,
} from "./ast-nodes.ts";
import type { SqlCopyFacts, SqlCopyFormat, SqlSetFacts } from "./sql-facts.ts";

/**
 * EXPLAIN runs its target when any ANALYZE option is true. PostgreSQL accepts no argument,
 * true/false/on/off and 0/1; anything else it rejects at run time, so it counts as true here.
 */
export function explainAnalyzes(explain: AstObject): boolean {
  return listField(explain, "options").some((option) => {
    const def = unwrapNode(option);
    if (!def || def.type !== "DefElem" || stringField(def.body, "defname") !== "analyze") return false;
    return optionValueIsTrue(def.body.arg);
  });
}

function optionValueIsTrue(arg: unknown): boolean {
  if (arg === undefined) return true;
  const value = unwrapNode(arg);
  if (!value) return true;
  switch (value.type) {
    case "Integer":
      return (value.body.ival ?? 0) !== 0;
    case "Boolean":
      return booleanField(value.body, "boolval");
    case "String": {
      const text = (stringField(value.body, "sval") ?? "").toLowerCase();
      return text !== "false" && text !== "off";
    }
    default:
      return true;
  }
}

export function copyFacts(copy: AstObject): SqlCopyFacts {
  return {
    program: booleanField(copy, "is_program"),
    filename: stringField(copy, "filename") ?? null,
    is_from: booleanField(copy, "is_from"),
  };
}

/**
 * The row format of COPY … TO STDOUT / FROM STDIN (null for a server file or program, whose rows
 * never cross the protocol): FORMAT, DELIMITER, NULL, QUOTE, ESCAPE, HEADER, with the defaults
 * PostgreSQL applies for each format.
 */
export function copyFormatFacts(copy: AstObject): SqlCopyFormat | null {
  if (booleanField(copy, "is_program") || stringField(copy, "filename") !== undefined) return null;
  const given = new Map<string, unknown>();
  for (const option of listField(copy, "options")) {
    const def = unwrapNode(option);
    const name = def && def.type === "DefElem" ? stringField(def.body, "defname") : undefined;
    if (def && name !== undefined) given.set(name.toLowerCase(), def.body.arg);
  }
  const formatName = optionString(given.get("format"))?.toLowerCase();
  const format = formatName === "csv" ? "csv" : formatName === "binary" ? "binary" : "text";
  if (format === "binary") return { format, delimiter: "", null_string: "", quote: null, escape: null, header: false };
  const delimiter = optionString(given.get("delimiter")) ?? (format === "csv" ? "," : "\t");
  const nullString = optionString(given.get("null")) ?? (format === "csv" ? "" : "\\N");
  const header = given.has("header") && optionValueIsTrue(given.get("header"));
  if (format === "text") return { format, delimiter, null_string: nullString, quote: null, escape: null, header };
  const quote = optionString(given.get("quote")) ?? '"';
  return { format, delimiter, null_string: nullString, quote, escape: optionString(given.get("escape")) ?? quote, header };
}

function optionString(arg: unknown): string | undefined {
  const value = unwrapNode(arg);
  return value && value.type === "String" ? (stringField(value.body, "sval") ?? "") : undefined;
}

/**
 * SET/RESET name as PostgreSQL knows it (`SET ROLE` → "role", `SET SESSION AUTHORIZATION` →
 * "session_authorization", `RESET ALL` → "all"). SET CONSTRAINTS and DISCARD are reported as
 * "constraints" and "discard" so policy can still tell every SET-like statement apart.
 */
export function setFacts(node: string, body: AstObject): SqlSetFacts | null {
  switch (node) {
    case "VariableSetStmt": {
      const name = stringField(body, "name");
      const resetAll = stringField(body, "kind") === "VAR_RESET_ALL";
      return { name: (name ?? (resetAll ? "all" : "")).toLowerCase(), local: booleanField(body, "is_local") };
    }
    case "ConstraintsSetStmt":
      return { name: "constraints", local: true };
    case "DiscardStmt":
      return { name: "discard", local: false };
    default:
      return null;
  }
}

