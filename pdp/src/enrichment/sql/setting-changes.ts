/**
 * Every route by which a statement changes a server setting (a GUC), for policy to judge which
 * setting and to what: some settings change how the server reads SQL text
 * (standard_conforming_strings, client_encoding …), and a value computed from data is a channel
 * out of the data (`UPDATE pg_settings SET setting = (SELECT ssn …)`).
 *
 * Routes: SET / SET LOCAL / SET … FROM CURRENT / SET … TO DEFAULT / SET NAMES / SET TIME ZONE /
 * SET SESSION CHARACTERISTICS / SET TRANSACTION, RESET and RESET ALL, DISCARD ALL, set_config()
 * anywhere in the tree, any write to pg_settings, ALTER ROLE/USER … [IN DATABASE …] SET/RESET,
 * ALTER DATABASE … SET/RESET, ALTER SYSTEM SET/RESET, and CREATE/ALTER FUNCTION/PROCEDURE … SET
 * or RESET clauses (which apply whenever the routine runs).
 */
import { forEachNode, isAstObject, listField, objectField, stringField, unwrapNode, type AstObject } from "./ast-nodes.ts";
import type { SqlOperation, SqlSettingChange, SqlSettingRoute } from "./sql-facts.ts";

/**
 * Nested routes (set_config calls, function SET clauses) all need the letters "set" in the text,
 * or a Unicode-escaped name (U&"\0073et_config"): without either, the tree need not be walked.
 */
const MAY_SET_WITHIN = /set|u&/i;

export function settingChanges(node: string, body: AstObject, root: unknown, operations: readonly SqlOperation[], text: string): SqlSettingChange[] {
  const changes: SqlSettingChange[] = [];
  const seen = new Set<AstObject>();
  const fromSetStatement = (set: AstObject, route: SqlSettingRoute): void => {
    if (seen.has(set)) return;
    seen.add(set);
    changes.push(...setStatementChanges(set, route));
  };

  switch (node) {
    case "VariableSetStmt":
      fromSetStatement(body, "set");
      break;
    case "DiscardStmt":
      // DISCARD ALL runs RESET ALL (among other things); DISCARD PLANS/SEQUENCES/TEMP change no setting.
      if (stringField(body, "target") === "DISCARD_ALL") changes.push({ route: "reset", name: "all", value: null, value_kind: "default", local: false });
      break;
    case "AlterRoleSetStmt":
    case "AlterDatabaseSetStmt":
    case "AlterSystemStmt": {
      const set = objectField(body, "setstmt");
      const route: SqlSettingRoute = node === "AlterRoleSetStmt" ? "alter-role" : node === "AlterDatabaseSetStmt" ? "alter-database" : "alter-system";
      if (set) fromSetStatement(set, route);
      break;
    }
  }

  if (MAY_SET_WITHIN.test(text)) forEachNode(root, ({ type, body: nodeBody }) => {
    if (type === "DefElem" && stringField(nodeBody, "defname") === "set") {
      const set = unwrapNode(nodeBody.arg);
      if (set && set.type === "VariableSetStmt") fromSetStatement(set.body, "function-set");
    } else if (type === "VariableSetStmt" && nodeBody !== body) {
      fromSetStatement(nodeBody, "set");
    } else if (type === "FuncCall") {
      const change = setConfigCall(nodeBody);
      if (change) changes.push(change);
    }
  });

  for (const operation of operations) {
    if (operation.kind === "select" || operation.table !== "pg_settings") continue;
    if (operation.schema !== null && operation.schema.toLowerCase() !== "pg_catalog") continue;
    // pg_settings' rules turn an UPDATE into set_config(name, setting): name and value come from rows.
    changes.push({ route: "pg_settings", name: null, value: null, value_kind: "computed", local: false });
  }
  return changes;
}

function setStatementChanges(set: AstObject, route: SqlSettingRoute): SqlSettingChange[] {
  const kind = stringField(set, "kind") ?? "";
  const local = set.is_local === true;
  const name = (stringField(set, "name") ?? "").toLowerCase();
  switch (kind) {
    case "VAR_SET_VALUE":
      return [{ route, name, ...literalValue(listField(set, "args")), local }];
    case "VAR_SET_DEFAULT":
      return [{ route, name, value: null, value_kind: "default", local }];
    case "VAR_SET_CURRENT":
      return [{ route, name, value: null, value_kind: "current", local }];
    case "VAR_RESET":
      return [{ route: route === "set" ? "reset" : route, name, value: null, value_kind: "default", local }];
    case "VAR_RESET_ALL":
      return [{ route: route === "set" ? "reset" : route, name: "all", value: null, value_kind: "default", local }];
    case "VAR_SET_MULTI":
      // SET TRANSACTION …, SET SESSION CHARACTERISTICS AS TRANSACTION …: one setting per option.
      return listField(set, "args").flatMap((arg) => {
        const option = unwrapNode(arg);
        if (!option || option.type !== "DefElem") return [];
        return [{ route, name: (stringField(option.body, "defname") ?? "").toLowerCase(), ...literalValue([option.body.arg]), local }];
      });
    default:
      // A kind this file does not know: which setting, nobody can say.
      return [{ route, name: null, value: null, value_kind: "computed", local }];
  }
}

/** SET's value as the server receives it: constants joined with ", " (a list such as search_path). */
function literalValue(args: unknown[]): Pick<SqlSettingChange, "value" | "value_kind"> {
  const parts: string[] = [];
  for (const arg of args) {
    const text = constantText(arg);
    if (text === undefined) return { value: null, value_kind: "computed" };
    parts.push(text);
  }
  return { value: parts.join(", "), value_kind: "literal" };
}

/** The text of a constant (string, number, boolean); undefined for anything computed. */
function constantText(value: unknown): string | undefined {
  const node = unwrapNode(value);
  if (!node) return undefined;
  if (node.type === "TypeCast") return constantText(node.body.arg);
  if (node.type !== "A_Const" || node.body.isnull === true) return undefined;
  for (const [key, field] of [["sval", "sval"], ["ival", "ival"], ["fval", "fval"], ["boolval", "boolval"], ["bsval", "bsval"]] as const) {
    const holder = node.body[key];
    if (!isAstObject(holder)) continue;
    const raw = holder[field];
    // An omitted field is the type's zero (protobuf JSON): "" / 0 / false.
    if (raw === undefined) return key === "ival" ? "0" : key === "boolval" ? "false" : "";
    return String(raw);
  }
  return undefined;
}

/** set_config(name, value, is_local), named arguments included; anything not constant is computed. */
function setConfigCall(call: AstObject): SqlSettingChange | undefined {
  const parts = listField(call, "funcname");
  const last = unwrapNode(parts[parts.length - 1]);
  const fname = last && last.type === "String" ? (stringField(last.body, "sval") ?? "") : "";
  if (fname.toLowerCase() !== "set_config") return undefined;
  const positional: unknown[] = [];
  const named = new Map<string, unknown>();
  for (const arg of listField(call, "args")) {
    const node = unwrapNode(arg);
    if (node && node.type === "NamedArgExpr") named.set((stringField(node.body, "name") ?? "").toLowerCase(), node.body.arg);
    else positional.push(arg);
  }
  const nameArg = positional[0] ?? named.get("setting_name");
  const valueArg = positional[1] ?? named.get("new_value");
  const name = constantText(nameArg);
  const value = constantText(valueArg);
  return {
    route: "set_config",
    name: name === undefined ? null : name.toLowerCase(),
    value: value ?? null,
    value_kind: value === undefined ? "computed" : "literal",
    local: false,
  };
}
