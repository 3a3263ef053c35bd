/**
 * The name PostgreSQL gives an unaliased target-list item (its FigureColname rules), so that
 * `s.upper` in `FROM (SELECT upper(email) FROM users) s` can be traced to its source. A name
 * this file cannot be sure of is marked uncertain; lookups then treat it as any name.
 */
import { listField, stringField, stringNodeValue, unwrapNode, type AstObject } from "./ast-nodes.ts";

export interface FiguredName {
  name: string;
  certain: boolean;
}

const UNNAMED = "?column?";

const SQL_VALUE_FUNCTION_NAMES: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_DATE: "current_date",
  SVFOP_CURRENT_TIME: "current_time",
  SVFOP_CURRENT_TIME_N: "current_time",
  SVFOP_CURRENT_TIMESTAMP: "current_timestamp",
  SVFOP_CURRENT_TIMESTAMP_N: "current_timestamp",
  SVFOP_LOCALTIME: "localtime",
  SVFOP_LOCALTIME_N: "localtime",
  SVFOP_LOCALTIMESTAMP: "localtimestamp",
  SVFOP_LOCALTIMESTAMP_N: "localtimestamp",
  SVFOP_CURRENT_ROLE: "current_role",
  SVFOP_CURRENT_USER: "current_user",
  SVFOP_USER: "user",
  SVFOP_SESSION_USER: "session_user",
  SVFOP_CURRENT_CATALOG: "current_catalog",
  SVFOP_CURRENT_SCHEMA: "current_schema",
};

/** Node types whose name is a fixed word. */
const FIXED_NAMES: Readonly<Record<string, string>> = {
  A_ArrayExpr: "array",
  RowExpr: "row",
  CoalesceExpr: "coalesce",
  GroupingFunc: "grouping",
  MergeSupportFunc: "merge_action",
  XmlSerialize: "xmlserialize",
  JsonObjectConstructor: "json_object",
  JsonArrayConstructor: "json_array",
  JsonArrayQueryConstructor: "json_array",
  JsonObjectAgg: "json_objectagg",
  JsonArrayAgg: "json_arrayagg",
  JsonParseExpr: "json",
  JsonScalarExpr: "json_scalar",
  JsonSerializeExpr: "json_serialize",
};

/** Strength as PostgreSQL ranks it: 2 = a real name, 1 = a type or keyword fallback, 0 = none. */
interface Ranked extends FiguredName {
  strength: 0 | 1 | 2;
}

export function figureColumnName(expression: unknown): FiguredName {
  const { name, certain } = rank(expression);
  return { name, certain };
}

function rank(expression: unknown): Ranked {
  const node = unwrapNode(expression);
  if (!node) return { name: UNNAMED, certain: true, strength: 0 };
  const { type, body } = node;
  switch (type) {
    case "ColumnRef": {
      const names = listField(body, "fields").map(stringNodeValue).filter((name) => name !== undefined);
      const last = names[names.length - 1];
      return last === undefined ? { name: UNNAMED, certain: true, strength: 0 } : { name: last, certain: true, strength: 2 };
    }
    case "A_Indirection": {
      // The last field name anywhere in the chain; subscripts and `*` do not name.
      const names = listField(body, "indirection").map(stringNodeValue).filter((name) => name !== undefined);
      const last = names[names.length - 1];
      if (last !== undefined) return { name: last, certain: true, strength: 2 };
      return rank(body.arg);
    }
    case "FuncCall": {
      const parts = listField(body, "funcname");
      const last = stringNodeValue(parts[parts.length - 1]);
      return last === undefined ? uncertain() : { name: last, certain: true, strength: 2 };
    }
    case "A_Expr":
      if (stringField(body, "kind") === "AEXPR_NULLIF") return { name: "nullif", certain: true, strength: 2 };
      return { name: UNNAMED, certain: true, strength: 0 };
    case "TypeCast": {
      const inner = rank(body.arg);
      if (inner.strength === 2) return inner;
      // The type as the grammar wrote it (`::int` is int4).
      const typeName = unwrapTypeName(body.typeName);
      return typeName === undefined ? uncertain() : { name: typeName, certain: inner.certain, strength: 1 };
    }
    case "CollateClause":
      return rank(body.arg);
    case "SubLink":
      return subLinkName(body);
    case "CaseExpr": {
      const result = rank(body.defresult);
      return result.strength === 2 ? result : { name: "case", certain: true, strength: 1 };
    }
    case "MinMaxExpr":
      return { name: stringField(body, "op") === "IS_LEAST" ? "least" : "greatest", certain: true, strength: 2 };
    case "SQLValueFunction": {
      const name = SQL_VALUE_FUNCTION_NAMES[stringField(body, "op") ?? ""];
      return name === undefined ? uncertain() : { name, certain: true, strength: 2 };
    }
    case "A_Const":
    case "ParamRef":
    case "BoolExpr":
    case "NullTest":
    case "BooleanTest":
      return { name: UNNAMED, certain: true, strength: 0 };
    default: {
      const fixed = FIXED_NAMES[type];
      return fixed === undefined ? uncertain() : { name: fixed, certain: true, strength: 2 };
    }
  }
}

function subLinkName(body: AstObject): Ranked {
  switch (stringField(body, "subLinkType")) {
    case "EXISTS_SUBLINK":
      return { name: "exists", certain: true, strength: 2 };
    case "ARRAY_SUBLINK":
      return { name: "array", certain: true, strength: 2 };
    case "EXPR_SUBLINK": {
      const select = unwrapNode(body.subselect);
      const first = select ? unwrapNode(listField(select.body, "targetList")[0]) : null;
      if (!first || first.type !== "ResTarget") return uncertain();
      // The subquery's first column name, "?column?" included, ranks as a real name.
      const alias = stringField(first.body, "name");
      const inner = alias !== undefined ? { name: alias, certain: true } : rank(first.body.val);
      return { name: inner.name, certain: inner.certain, strength: 2 };
    }
    default:
      return { name: UNNAMED, certain: true, strength: 0 };
  }
}

function unwrapTypeName(typeName: unknown): string | undefined {
  if (typeof typeName !== "object" || typeName === null) return undefined;
  const names = listField(typeName as AstObject, "names");
  return stringNodeValue(names[names.length - 1]);
}

/** A node whose name rule is not reproduced here: any name may be the one PostgreSQL gives. */
function uncertain(): Ranked {
  return { name: UNNAMED, certain: false, strength: 0 };
}
