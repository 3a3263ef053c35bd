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
import type { SqlCopyFacts, SqlSetFacts } from "./sql-facts.ts";

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

