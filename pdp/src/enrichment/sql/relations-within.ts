import { forEachNode, stringField } from "./ast-nodes.ts";

/** Every CTE's query by name (a name may be defined more than once, in different scopes). */
export function collectCteQueries(root: unknown): Map<string, unknown[]> {
  const queries = new Map<string, unknown[]>();
  forEachNode(root, ({ type, body }) => {
    if (type !== "CommonTableExpr") return;
    const name = stringField(body, "ctename");
    if (name === undefined) return;
    const list = queries.get(name) ?? [];
    list.push(body.ctequery);
    queries.set(name, list);
  });
  return queries;
}

/**
 * The lower-case names of every relation `root` can draw on, following unqualified names into
 * the CTE queries of that name. Over-reports on purpose: a name that might be a CTE or a table is
 * both. `known` may answer for a subtree already walked (not for `root` itself).
 */
export function relationsWithin(root: unknown, cteQueries: () => Map<string, unknown[]>, known: (node: unknown) => Set<string> | undefined = () => undefined): Set<string> {
  const found = new Set<string>();
  const pending: unknown[] = [root];
  const seen = new Set<unknown>();
  while (pending.length > 0) {
    const next = pending.pop();
    if (seen.has(next)) continue;
    seen.add(next);
    const answered = next === root ? undefined : known(next);
    if (answered) {
      for (const table of answered) found.add(table);
      continue;
    }
    forEachNode(next, ({ type, body }) => {
      if (type !== "RangeVar") return;
      const name = stringField(body, "relname") ?? "";
      found.add(name.toLowerCase());
      if (stringField(body, "schemaname") === undefined) pending.push(...(cteQueries().get(name) ?? []));
    });
  }
  return found;
}
