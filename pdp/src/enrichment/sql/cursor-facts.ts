/**
 * SQL cursors: DECLARE … CURSOR FOR <query> is judged as its query (the rows FETCH later returns
 * are that query's), and DECLARE, FETCH, MOVE and CLOSE name the cursor they are about, so a PEP
 * can tie a FETCH's rows to the DECLARE that was decided on them.
 */
import { stringField, unwrapNode, type AstObject, type TypedNode } from "./ast-nodes.ts";
import type { SqlCursorFacts } from "./sql-facts.ts";

/** PostgreSQL's CURSOR_OPT_HOLD bit of DeclareCursorStmt.options (parsenodes.h). */
const CURSOR_OPT_HOLD = 0x0020;

/** The query a DECLARE … CURSOR runs; null for any other statement. */
export function declaredQuery(node: string, body: AstObject): TypedNode | null {
  return node === "DeclareCursorStmt" ? unwrapNode(body.query) : null;
}

/** The cursor a top-level statement is about; null when it is not a cursor statement. */
export function cursorFacts(node: string, body: AstObject): SqlCursorFacts | null {
  // The parser has already folded the name as an identifier: unquoted lower-cased, quoted exact.
  const name = stringField(body, "portalname") ?? null;
  switch (node) {
    case "DeclareCursorStmt": {
      const options = typeof body.options === "number" ? body.options : 0;
      return { name, operation: "declare", hold: (options & CURSOR_OPT_HOLD) !== 0 };
    }
    case "FetchStmt":
      return { name, operation: body.ismove === true ? "move" : "fetch", hold: false };
    case "ClosePortalStmt":
      // CLOSE ALL has no portal name.
      return { name, operation: "close", hold: false };
    default:
      return null;
  }
}
