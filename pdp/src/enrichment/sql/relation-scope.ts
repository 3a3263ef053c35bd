/**
 * Name resolution for column references: which relation does `u.email`, `email` or `u` mean?
 *
 * Deliberately conservative: when PostgreSQL could pick one of several relations (several FROM
 * items, or a correlated subquery that may fall back to an outer query's relation) the answer is
 * "unknown" (null), never a guess — a wrong guess would let `SELECT (SELECT ssn FROM orders) FROM
 * users` pass as a read of orders.ssn.
 */
import type { AstObject } from "./ast-nodes.ts";

/** A base table, or something whose columns cannot be tied to one (subquery, CTE, function, join). */
export type RelationSource =
  | { kind: "table"; name: string }
  | { kind: "derived"; node: unknown; joinAlias: boolean };

export class RelationScope {
  private readonly byName = new Map<string, RelationSource>();
  private readonly members: RelationSource[] = [];

  /** `pseudo` scopes only add names (OLD/NEW/EXCLUDED); they are not a FROM list for `*`. */
  constructor(readonly pseudo = false) {}

  add(name: string | undefined, source: RelationSource): void {
    if (name !== undefined && !this.byName.has(name)) this.byName.set(name, source);
    if (!this.members.includes(source)) this.members.push(source);
  }

  get(name: string): RelationSource | undefined {
    return this.byName.get(name);
  }

  /** The relations this scope's FROM list contributes (a join alias adds none of its own). */
  relations(): RelationSource[] {
    return this.members.filter((source) => !(source.kind === "derived" && source.joinAlias));
  }
}

export class ScopeStack {
  private readonly scopes: RelationScope[] = [];
  /** CTE names visible at this point, innermost WITH last: name → the CTE's query. */
  private readonly cteFrames: Array<Map<string, unknown>> = [];

  push(scope: RelationScope): void {
    this.scopes.push(scope);
  }

  pop(): void {
    this.scopes.pop();
  }

  pushCteFrame(): Map<string, unknown> {
    const frame = new Map<string, unknown>();
    this.cteFrames.push(frame);
    return frame;
  }

  popCteFrame(): void {
    this.cteFrames.pop();
  }

  visibleCte(name: string): unknown {
    for (let i = this.cteFrames.length - 1; i >= 0; i--) {
      const frame = this.cteFrames[i] as Map<string, unknown>;
      if (frame.has(name)) return frame.get(name);
    }
    return undefined;
  }

  /** A RangeVar in a FROM list: an unqualified name matching a visible CTE is that CTE. */
  sourceForRangeVar(rangeVar: AstObject): RelationSource {
    const relname = typeof rangeVar.relname === "string" ? rangeVar.relname : "";
    if (typeof rangeVar.schemaname !== "string") {
      const cteQuery = this.visibleCte(relname);
      if (cteQuery !== undefined) return { kind: "derived", node: cteQuery, joinAlias: false };
    }
    return { kind: "table", name: relname.toLowerCase() };
  }

  /** `q.col` / `q.*`: the innermost relation named q, as PostgreSQL resolves qualifiers. */
  lookup(name: string): RelationSource | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const found = (this.scopes[i] as RelationScope).get(name);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * An unqualified column: PostgreSQL tries the innermost FROM list, then each enclosing one.
   * Only when every visible scope together holds exactly one relation, a base table, is the
   * answer certain.
   */
  unqualifiedTable(): string | null {
    const candidates = new Set<RelationSource>();
    for (const scope of this.scopes) for (const source of scope.relations()) candidates.add(source);
    if (candidates.size !== 1) return null;
    const [only] = candidates;
    return only && only.kind === "table" ? only.name : null;
  }

  /** The relations a bare `*` expands to: the innermost real FROM list (undefined: none). */
  innermostRelations(): RelationSource[] | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const scope = this.scopes[i] as RelationScope;
      if (scope.pseudo) continue;
      const relations = scope.relations();
      return relations.length > 0 ? relations : undefined;
    }
    return undefined;
  }
}
