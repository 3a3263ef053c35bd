/**
 * Every routine a statement makes the server run, as far as its text shows: function calls
 * (targets, WHERE, FROM and ROWS FROM, LATERAL, ORDER/GROUP BY, windows, aggregates with FILTER
 * or WITHIN GROUP, DEFAULT-free VALUES …), operators (each is a function, and any schema can
 * define one), types given to values (casts, typed literals, column definition lists: a
 * user-defined type's input function or domain check runs code), and TABLESAMPLE methods. Policy reads a statement as a read only when each of these is on its
 * reviewed list of side-effect-free built-ins (docs/policy-input.md, `calls`).
 *
 * What the text cannot show (a view's or trigger's functions, a built-in name overloaded for a
 * user type, `row.f` attribute notation calling f(row)) is listed in docs/policy-input.md.
 */
import { listField, stringField, stringNodeValue, type AstObject } from "./ast-nodes.ts";
import type { SqlCall, SqlCallKind } from "./sql-facts.ts";

/** A_Expr kinds whose `name` is not an operator (BETWEEN's keywords); their comparisons are `<=`/`>=`. */
const NON_OPERATOR_EXPRESSIONS = new Set(["AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM"]);

export class CallRecorder {
  private readonly calls = new Map<string, SqlCall>();

  /** Looks at one node of the walk; records what it invokes, if anything. */
  record(type: string, body: AstObject): void {
    switch (type) {
      case "FuncCall":
        this.add("function", listField(body, "funcname"));
        return;
      case "A_Expr":
        if (!NON_OPERATOR_EXPRESSIONS.has(stringField(body, "kind") ?? "")) this.add("operator", listField(body, "name"));
        return;
      case "SubLink": // x = ANY (SELECT …), x < ALL (…)
        this.add("operator", listField(body, "operName"));
        return;
      case "SortBy": // ORDER BY x USING op
        this.add("operator", listField(body, "useOp"));
        return;
      // A type named for values: a cast's target, a typed literal, the column types of a function
      // in FROM (`AS x(a mydomain)`), of XMLTABLE, RETURNING types, PREPARE's parameter types.
      case "TypeName":
        this.add("cast", listField(body, "names"));
        return;
      case "RangeTableSample":
        this.add("tablesample", listField(body, "method"));
        return;
    }
  }

  result(): SqlCall[] {
    return [...this.calls.values()].sort(compareCalls);
  }

  /** A qualified name `[catalog.][schema.]name`: the last part is the name, the one before it the schema. */
  private add(kind: SqlCallKind, parts: unknown[]): void {
    if (parts.length === 0) return;
    const names = parts.map(stringNodeValue);
    // A part that is not a plain string (never produced today) still counts, as an unknown name.
    // Exact case: a quoted "Lower"(x) is not lower(x), and may be a function of anyone's making.
    const name = names[names.length - 1] ?? "?";
    const schema = names.length > 1 ? (names[names.length - 2] ?? "?") : null;
    const key = `${kind}\u0000${schema ?? ""}\u0000${schema === null ? "n" : "s"}\u0000${name}`;
    if (!this.calls.has(key)) this.calls.set(key, { kind, schema, name });
  }
}

function compareCalls(a: SqlCall, b: SqlCall): number {
  const left = `${a.kind}\u0000${a.schema ?? ""}\u0000${a.name}`;
  const right = `${b.kind}\u0000${b.schema ?? ""}\u0000${b.name}`;
  return left < right ? -1 : left > right ? 1 : 0;
}
