/**
 * The name environment output provenance resolves column references in: the FROM lists visible
 * at a point of the query (innermost last) and the CTEs in force there.
 *
 * Unlike the statement walker's mutable scope stack, environments here are immutable values: a
 * subquery or CTE is traced in the environment of the place it is defined (a LATERAL item sees
 * only the FROM items before it), however deep the reference that needs its columns sits.
 */
import type { AstObject } from "./ast-nodes.ts";

/** What a FROM item (or an OLD/NEW name) stands for. */
export type OutputSource =
  | { kind: "table"; name: string; columnAliases: readonly string[] | null }
  /** A subquery or CTE: its columns are its query's outputs. */
  | { kind: "query"; type: string; body: AstObject; columnAliases: readonly string[] | null; env: OutputEnv }
  /** A function, XMLTABLE, JSON_TABLE …: whatever its arguments read. */
  | { kind: "function"; node: unknown; env: OutputEnv }
  /** A join alias (`(a JOIN b) AS j`, `JOIN … USING (id) AS k`): the columns of its members. */
  | { kind: "join"; members: readonly OutputSource[]; columnAliases: readonly string[] | null };

export interface OutputScope {
  /** The relations a bare `*` or an unqualified column can mean (join aliases excluded). */
  readonly relations: readonly OutputSource[];
  readonly names: ReadonlyMap<string, OutputSource>;
  /** OLD/NEW/EXCLUDED and RETURNING aliases: names for qualified references only. */
  readonly pseudo: boolean;
}

export interface CteDefinition {
  readonly type: string;
  readonly body: AstObject;
  readonly columnAliases: readonly string[] | null;
  /** Set once the WITH clause is read: a recursive CTE's environment includes itself. */
  env: OutputEnv;
}

export interface OutputEnv {
  readonly scopes: readonly OutputScope[];
  readonly ctes: readonly ReadonlyMap<string, CteDefinition>[];
}

export const EMPTY_ENV: OutputEnv = { scopes: [], ctes: [] };

/** A FROM list under construction; `snapshot` freezes what LATERAL items may see. */
export class OutputScopeBuilder {
  private readonly relations: OutputSource[] = [];
  private readonly names = new Map<string, OutputSource>();

  constructor(private readonly pseudo = false) {}

  addRelation(name: string | undefined, source: OutputSource): void {
    this.relations.push(source);
    this.addName(name, source);
  }

  /** A name without a relation of its own (join aliases, OLD/NEW). */
  addName(name: string | undefined, source: OutputSource): void {
    if (name !== undefined && !this.names.has(name)) this.names.set(name, source);
  }

  relationCount(): number {
    return this.relations.length;
  }

  relationsSince(start: number): OutputSource[] {
    return this.relations.slice(start);
  }

  snapshot(): OutputScope {
    return { relations: [...this.relations], names: new Map(this.names), pseudo: this.pseudo };
  }
}

export function withScope(env: OutputEnv, scope: OutputScope): OutputEnv {
  return { scopes: [...env.scopes, scope], ctes: env.ctes };
}

export function withCteFrame(env: OutputEnv, frame: ReadonlyMap<string, CteDefinition>): OutputEnv {
  return { scopes: env.scopes, ctes: [...env.ctes, frame] };
}

export function visibleCte(env: OutputEnv, name: string): CteDefinition | undefined {
  for (let i = env.ctes.length - 1; i >= 0; i--) {
    const found = (env.ctes[i] as ReadonlyMap<string, CteDefinition>).get(name);
    if (found) return found;
  }
  return undefined;
}

/** `q.col` / `q.*`: the innermost relation named q, as PostgreSQL resolves qualifiers. */
export function lookupSource(env: OutputEnv, name: string): OutputSource | undefined {
  for (let i = env.scopes.length - 1; i >= 0; i--) {
    const found = (env.scopes[i] as OutputScope).names.get(name);
    if (found) return found;
  }
  return undefined;
}

/** The relations a bare `*` expands to: the innermost real FROM list. */
export function innermostRelations(env: OutputEnv): readonly OutputSource[] {
  for (let i = env.scopes.length - 1; i >= 0; i--) {
    const scope = env.scopes[i] as OutputScope;
    if (!scope.pseudo) return scope.relations;
  }
  return [];
}

/** The FROM lists an unqualified column is searched in, innermost first. */
export function scopesOutward(env: OutputEnv): OutputScope[] {
  return env.scopes.filter((scope) => !scope.pseudo).reverse();
}
