/**
 * Output provenance: for a statement that returns rows, which base-table columns each returned
 * column is computed from. A masking PEP needs it for the columns the server cannot tie to a
 * table (expressions come back with table OID 0): `upper(email)`, `email::text`,
 * `row_to_json(u)`, a subquery's or CTE's column.
 *
 * Over-attribution is safe (a column masked needlessly), under-attribution leaks. So every
 * reading PostgreSQL could take of a name is kept, a column the parse cannot tie to one source
 * column counts as the whole row (column "*") of every table it may come from, and a scalar
 * subquery counts as reading every column it references anywhere (its WHERE too).
 */
import {
  aliasName,
  booleanField,
  isAstObject,
  listField,
  objectField,
  stringField,
  stringNodeValue,
  unwrapNode,
  type AstObject,
} from "./ast-nodes.ts";
import { declaredQuery } from "./cursor-facts.ts";
import { figureColumnName } from "./output-column-names.ts";
import { collectCteQueries, relationsWithin } from "./relations-within.ts";
import {
  EMPTY_ENV,
  innermostRelations,
  lookupSource,
  OutputScopeBuilder,
  scopesOutward,
  visibleCte,
  withCteFrame,
  withScope,
  type CteDefinition,
  type OutputEnv,
  type OutputSource,
} from "./output-scope.ts";
import { ProvenanceBudget, SourceColumnSet } from "./source-column-set.ts";
import type { SqlOutput, SqlSourceColumn } from "./sql-facts.ts";

/** Beyond this many source columns an output lists whole rows of its tables instead. */
const MAX_LISTED_SOURCE_COLUMNS = 64;

const MODIFY_TYPES = new Set(["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"]);

/** Fields of a SELECT / DML node that the tracer reads in a scope of their own. */
const SELECT_SCOPED_FIELDS = new Set(["withClause", "fromClause", "intoClause", "larg", "rarg"]);
const MODIFY_SCOPED_FIELDS = new Set([
  "withClause",
  "relation",
  "fromClause",
  "usingClause",
  "sourceRelation",
  "selectStmt",
  "returningClause",
]);

/** The columns a top-level statement returns to the client (see `SqlStatementFacts.outputs`). */
export function statementOutputs(type: string, body: AstObject, root: unknown): SqlOutput[] | null {
  const tracer = new OutputTracer(root);
  switch (type) {
    case "SelectStmt":
      // SELECT … INTO fills a table and returns nothing.
      return objectField(body, "intoClause") ? null : tracer.describe(type, body);
    case "InsertStmt":
    case "UpdateStmt":
    case "DeleteStmt":
    case "MergeStmt":
      return objectField(body, "returningClause") ? tracer.describe(type, body) : null;
    case "CopyStmt":
      return copyOutputs(tracer, body);
    case "ExplainStmt":
      // The plan, even with ANALYZE: the target runs but its rows are discarded.
      return [plainOutput("QUERY PLAN")];
    case "DeclareCursorStmt": {
      // FETCH returns the cursor's query's rows: the PEP masks them by these outputs.
      const query = declaredQuery(type, body);
      return query ? statementOutputs(query.type, query.body, root) : null;
    }
    case "VariableShowStmt": {
      const name = stringField(body, "name") ?? "";
      return name === "all" ? ["name", "setting", "description"].map(plainOutput) : [plainOutput(name)];
    }
    default:
      return null;
  }
}

/** COPY … TO STDOUT sends rows to the client; COPY FROM and COPY to a file or program send none. */
function copyOutputs(tracer: OutputTracer, body: AstObject): SqlOutput[] | null {
  if (booleanField(body, "is_from") || booleanField(body, "is_program") || stringField(body, "filename") !== undefined) {
    return null;
  }
  const query = unwrapNode(body.query);
  if (query) return tracer.describe(query.type, query.body);
  const relation = objectField(body, "relation");
  if (!relation) return null;
  const table = (stringField(relation, "relname") ?? "").toLowerCase();
  const columns = listField(body, "attlist")
    .map(stringNodeValue)
    .filter((column): column is string => column !== undefined);
  if (columns.length === 0) {
    return [{ name: "*", star: true, star_table: table, direct: null, is_value: true, derived_from: [{ table, column: "*" }] }];
  }
  return columns.map((column) => ({
    name: column,
    star: false,
    star_table: null,
    direct: { table, column },
    is_value: true,
    derived_from: [{ table, column }],
  }));
}

function plainOutput(name: string): SqlOutput {
  return { name, star: false, star_table: null, direct: null, is_value: false, derived_from: [] };
}

interface TracedOutput {
  name: string;
  /** False when PostgreSQL may name the column differently (stars, unreproduced name rules). */
  certain: boolean;
  star: boolean;
  starTable: string | null;
  direct: SqlSourceColumn | null;
  /** The value of a source column itself (see valueColumnRef), not something computed from it. */
  isValue: boolean;
  reads: SourceColumnSet;
}

interface Resolution {
  reads: SourceColumnSet;
  direct: SqlSourceColumn | null;
  isValue: boolean;
}

class OutputTracer {
  private readonly budget = new ProvenanceBudget();
  private readonly outputsByQuery = new Map<AstObject, TracedOutput[]>();
  private readonly readsByQuery = new Map<AstObject, SourceColumnSet>();
  private readonly inProgress = new Set<AstObject>();
  private cteQueriesByName: Map<string, unknown[]> | undefined;

  constructor(private readonly root: unknown) {}

  describe(type: string, body: AstObject): SqlOutput[] {
    return this.outputsOf(type, body, EMPTY_ENV).map((output) => ({
      name: output.name,
      star: output.star,
      star_table: output.starTable,
      direct: output.direct,
      is_value: output.isValue,
      derived_from: output.reads.toSortedArray(MAX_LISTED_SOURCE_COLUMNS),
    }));
  }

  private newSet(): SourceColumnSet {
    return new SourceColumnSet(this.budget);
  }

  // ── outputs of a query ────────────────────────────────────────────────────────────────────

  /** A query's outputs, traced once in the environment where the query is defined. */
  private outputsOf(type: string, body: AstObject, env: OutputEnv): TracedOutput[] {
    const known = this.outputsByQuery.get(body);
    if (known) return known;
    if (this.inProgress.has(body)) {
      // A recursive CTE reading itself: its columns may hold anything its body reads.
      return [this.starOutput(null, this.wholeRowsWithin(body))];
    }
    this.inProgress.add(body);
    try {
      const outputs =
        type === "SelectStmt"
          ? this.selectOutputs(body, env)
          : MODIFY_TYPES.has(type)
            ? this.modifyOutputs(type, body, env)
            : [this.starOutput(null, this.wholeRowsWithin(body))];
      this.outputsByQuery.set(body, outputs);
      return outputs;
    } finally {
      this.inProgress.delete(body);
    }
  }

  private selectOutputs(body: AstObject, outer: OutputEnv): TracedOutput[] {
    const { env } = this.enterWith(objectField(body, "withClause"), outer);
    const setOperation = stringField(body, "op");
    if (setOperation !== undefined && setOperation !== "SETOP_NONE") {
      const left = isAstObject(body.larg) ? this.outputsOf("SelectStmt", body.larg, env) : [];
      const right = isAstObject(body.rarg) ? this.outputsOf("SelectStmt", body.rarg, env) : [];
      return this.combineSetOperation(left, right);
    }
    const rows = listField(body, "valuesLists");
    if (rows.length > 0) return this.valuesOutputs(rows, env);
    const scope = this.buildFromScope(listField(body, "fromClause"), env, null);
    return this.targetOutputs(listField(body, "targetList"), withScope(env, scope));
  }

  private modifyOutputs(type: string, body: AstObject, outer: OutputEnv): TracedOutput[] {
    const returning = objectField(body, "returningClause");
    if (!returning) return [];
    const { env } = this.enterWith(objectField(body, "withClause"), outer);
    return this.targetOutputs(listField(returning, "exprs"), this.modifyEnv(type, body, env, null));
  }

  /** The target table and the FROM/USING/source items, then OLD/NEW/EXCLUDED and RETURNING aliases. */
  private modifyEnv(type: string, body: AstObject, env: OutputEnv, reads: SourceColumnSet | null): OutputEnv {
    const relation = objectField(body, "relation");
    const relationName = relation ? (stringField(relation, "relname") ?? "") : "";
    const target: OutputSource = { kind: "table", name: relationName.toLowerCase(), columnAliases: null };
    const main = new OutputScopeBuilder();
    main.addRelation(relation ? (aliasName(relation) ?? relationName) : undefined, target);
    const items =
      type === "UpdateStmt"
        ? listField(body, "fromClause")
        : type === "DeleteStmt"
          ? listField(body, "usingClause")
          : type === "MergeStmt"
            ? [body.sourceRelation]
            : [];
    for (const item of items) this.addFromItem(main, item, env, reads);
    const pseudo = new OutputScopeBuilder(true);
    const names = ["old", "new", "excluded"];
    const returning = objectField(body, "returningClause");
    for (const option of listField(returning ?? {}, "options")) {
      const value = unwrapNode(option);
      const alias = value && value.type === "ReturningOption" ? stringField(value.body, "value") : undefined;
      if (alias !== undefined) names.push(alias);
    }
    for (const name of names) pseudo.addName(name, target);
    return withScope(withScope(env, main.snapshot()), pseudo.snapshot());
  }

  private targetOutputs(targets: unknown[], env: OutputEnv): TracedOutput[] {
    const outputs: TracedOutput[] = [];
    for (const item of targets) {
      const target = unwrapNode(item);
      if (!target || target.type !== "ResTarget") continue;
      const value = unwrapNode(target.body.val);
      if (value && value.type === "ColumnRef" && isStarRef(value.body)) {
        outputs.push(this.starTargetOutput(listField(value.body, "fields"), env));
        continue;
      }
      const alias = stringField(target.body, "name");
      const figured = alias !== undefined ? { name: alias, certain: true } : figureColumnName(target.body.val);
      const valueRef = value && value.type !== "ColumnRef" ? valueColumnRef(target.body.val) : undefined;
      const resolution: Resolution =
        value && value.type === "ColumnRef"
          ? this.resolveColumnRef(listField(value.body, "fields"), env)
          : {
              reads: this.readsOfExpression(target.body.val, env),
              direct: null,
              // email::text, upper(email): still the column's value, in another type or case.
              isValue: valueRef !== undefined && this.resolveColumnRef(valueRef, env).isValue,
            };
      outputs.push({ ...figured, star: false, starTable: null, direct: resolution.direct, isValue: resolution.isValue, reads: resolution.reads });
    }
    return outputs;
  }

  private starTargetOutput(fields: unknown[], env: OutputEnv): TracedOutput {
    if (fields.length === 1) {
      const relations = innermostRelations(env);
      const reads = this.newSet();
      for (const relation of relations) reads.addAll(this.wholeRow(relation));
      const only = relations.length === 1 ? relations[0] : undefined;
      return this.starOutput(only && only.kind === "table" ? only.name : null, reads);
    }
    const qualifier = fields.length === 2 ? stringNodeValue(fields[0]) : undefined;
    const source = qualifier !== undefined ? lookupSource(env, qualifier) : undefined;
    if (source) return this.starOutput(source.kind === "table" ? source.name : null, this.wholeRow(source));
    return this.starOutput(null, this.resolveColumnRef(fields, env).reads);
  }

  private starOutput(starTable: string | null, reads: SourceColumnSet): TracedOutput {
    return { name: "*", certain: false, star: true, starTable, direct: null, isValue: false, reads };
  }

  private valuesOutputs(rows: unknown[], env: OutputEnv): TracedOutput[] {
    const outputs: TracedOutput[] = [];
    for (const row of rows) {
      const list = unwrapNode(row);
      const items = list && list.type === "List" ? listField(list.body, "items") : [];
      items.forEach((item, index) => {
        outputs[index] ??= {
          name: `column${index + 1}`,
          certain: true,
          star: false,
          starTable: null,
          direct: null,
          isValue: false,
          reads: this.newSet(),
        };
        (outputs[index] as TracedOutput).reads.addAll(this.readsOfExpression(item, env));
      });
    }
    return outputs;
  }

  /** UNION/INTERSECT/EXCEPT: position by position; a star on either side makes one star of all. */
  private combineSetOperation(left: TracedOutput[], right: TracedOutput[]): TracedOutput[] {
    if (left.length !== right.length || [...left, ...right].some((output) => output.star)) {
      const reads = this.newSet();
      for (const output of [...left, ...right]) reads.addAll(output.reads);
      return [this.starOutput(null, reads)];
    }
    return left.map((output, index) => {
      const other = right[index] as TracedOutput;
      const sameDirect =
        output.direct !== null &&
        other.direct !== null &&
        output.direct.table === other.direct.table &&
        output.direct.column === other.direct.column;
      return {
        name: output.name,
        certain: output.certain,
        star: false,
        starTable: null,
        direct: sameDirect ? output.direct : null,
        isValue: output.isValue && other.isValue,
        reads: this.newSet().addAll(output.reads).addAll(other.reads),
      };
    });
  }

  // ── scopes ────────────────────────────────────────────────────────────────────────────────

  /**
   * Makes a WITH clause's names visible: all at once for WITH RECURSIVE, otherwise each CTE sees
   * only the ones before it (`WITH a AS (SELECT * FROM users), users AS (…)` reads the real users).
   */
  private enterWith(withClause: AstObject | undefined, outer: OutputEnv): { env: OutputEnv; ctes: CteDefinition[] } {
    if (!withClause) return { env: outer, ctes: [] };
    const recursive = booleanField(withClause, "recursive");
    const frame = new Map<string, CteDefinition>();
    const definitions: CteDefinition[] = [];
    for (const item of listField(withClause, "ctes")) {
      const cte = unwrapNode(item);
      if (!cte || cte.type !== "CommonTableExpr") continue;
      const query = unwrapNode(cte.body.ctequery);
      if (!query) continue;
      const definition: CteDefinition = {
        type: query.type,
        body: query.body,
        columnAliases: stringList(listField(cte.body, "aliascolnames")),
        env: withCteFrame(outer, new Map(frame)),
      };
      definitions.push(definition);
      frame.set(stringField(cte.body, "ctename") ?? "", definition);
    }
    const env = withCteFrame(outer, frame);
    if (recursive) for (const definition of definitions) definition.env = env;
    return { env, ctes: definitions };
  }

  /** A FROM list; with `reads`, also what its items read themselves (join conditions, function arguments). */
  private buildFromScope(items: unknown[], env: OutputEnv, reads: SourceColumnSet | null) {
    const builder = new OutputScopeBuilder();
    for (const item of items) this.addFromItem(builder, item, env, reads);
    return builder.snapshot();
  }

  private addFromItem(builder: OutputScopeBuilder, item: unknown, env: OutputEnv, reads: SourceColumnSet | null): void {
    const node = unwrapNode(item);
    if (!node) return;
    const { type, body } = node;
    switch (type) {
      case "RangeVar": {
        const source = this.sourceForRangeVar(body, env);
        builder.addRelation(aliasName(body) ?? stringField(body, "relname") ?? "", source);
        if (reads && source.kind === "query") reads.addAll(this.allReads(source.type, source.body, source.env));
        return;
      }
      case "JoinExpr": {
        const start = builder.relationCount();
        this.addFromItem(builder, body.larg, env, reads);
        this.addFromItem(builder, body.rarg, env, reads);
        const members = builder.relationsSince(start);
        for (const key of ["alias", "join_using_alias"]) {
          const alias = objectField(body, key);
          const name = alias ? stringField(alias, "aliasname") : undefined;
          const columnAliases = alias ? stringList(listField(alias, "colnames")) : null;
          if (name !== undefined) builder.addName(name, { kind: "join", members, columnAliases });
        }
        if (reads && body.quals !== undefined) {
          reads.addAll(this.readsOfExpression(body.quals, withScope(env, builder.snapshot())));
        }
        return;
      }
      case "RangeTableSample":
        this.addFromItem(builder, body.relation, env, reads);
        return;
      case "RangeSubselect": {
        const query = unwrapNode(body.subquery);
        if (!query) return;
        // Only a LATERAL subquery sees the FROM items before it.
        const sourceEnv = booleanField(body, "lateral") ? withScope(env, builder.snapshot()) : env;
        builder.addRelation(aliasName(body), {
          kind: "query",
          type: query.type,
          body: query.body,
          columnAliases: aliasColumnNames(body),
          env: sourceEnv,
        });
        if (reads) reads.addAll(this.allReads(query.type, query.body, sourceEnv));
        return;
      }
      default: {
        // Functions in FROM always see the items before them.
        const sourceEnv = withScope(env, builder.snapshot());
        builder.addRelation(aliasName(body) ?? rangeFunctionName(type, body), { kind: "function", node: body, env: sourceEnv });
        if (reads) reads.addAll(this.readsOfExpression(body, sourceEnv));
      }
    }
  }

  /** An unqualified name matching a visible CTE is that CTE; anything else is a table. */
  private sourceForRangeVar(rangeVar: AstObject, env: OutputEnv): OutputSource {
    const relname = stringField(rangeVar, "relname") ?? "";
    const columnAliases = aliasColumnNames(rangeVar);
    if (stringField(rangeVar, "schemaname") === undefined) {
      const cte = visibleCte(env, relname);
      if (cte) {
        return { kind: "query", type: cte.type, body: cte.body, columnAliases: columnAliases ?? cte.columnAliases, env: cte.env };
      }
    }
    return { kind: "table", name: relname.toLowerCase(), columnAliases };
  }

  // ── column references ─────────────────────────────────────────────────────────────────────

  /**
   * ColumnRef forms, every plausible reading kept (PostgreSQL's own order of trying them):
   *   col            a column of a visible relation, or the whole row of relation `col`
   *   q.col          column of relation q, or field `col` of composite column q
   *   a.b.col        schema.table.column, or relation a's composite column b
   *   a.b.c.col      catalog.schema.table.column, or schema.table's composite column c
   *   *, q.*, a.b.*  every column of the FROM list / of q / of a.b
   */
  private resolveColumnRef(fields: unknown[], env: OutputEnv): Resolution {
    const names = fields.map(stringNodeValue);
    const count = names.length;
    const star = count > 0 && unwrapNode(fields[count - 1])?.type === "A_Star";
    const reads = this.newSet();
    if (star) {
      if (count === 1) {
        for (const relation of innermostRelations(env)) reads.addAll(this.wholeRow(relation));
        return { reads, direct: null, isValue: false };
      }
      const qualifier = names[count - 2];
      if (count === 2 && qualifier !== undefined) {
        const source = lookupSource(env, qualifier);
        reads.addAll(source ? this.wholeRow(source) : this.columnByName(qualifier, env).reads);
        return { reads, direct: null, isValue: false };
      }
      if (qualifier !== undefined) reads.add(qualifier.toLowerCase(), "*");
      reads.addAll(this.compositeReading(names, env));
      return { reads, direct: null, isValue: false };
    }
    const column = names[count - 1];
    if (column === undefined) return { reads, direct: null, isValue: false };
    if (count === 1) {
      const byName = this.columnByName(column, env);
      const wholeRow = lookupSource(env, column);
      if (!wholeRow) return byName;
      return { reads: reads.addAll(byName.reads).addAll(this.wholeRow(wholeRow)), direct: null, isValue: false };
    }
    const qualifier = names[0];
    if (count === 2 && qualifier !== undefined) {
      const source = lookupSource(env, qualifier);
      if (source) return this.columnOf(source, column);
      return { reads: this.columnByName(qualifier, env).reads, direct: null, isValue: false };
    }
    const table = names[count - 2];
    if (table !== undefined) reads.add(table.toLowerCase(), column);
    const composite = this.compositeReading(names, env);
    const direct = composite.size === 0 && table !== undefined && count === 3 ? { table: table.toLowerCase(), column } : null;
    return { reads: reads.addAll(composite), direct, isValue: direct !== null };
  }

  /** `a.b.x…` read as relation a's composite column b; with four names, schema.table.column too. */
  private compositeReading(names: Array<string | undefined>, env: OutputEnv): SourceColumnSet {
    const reads = this.newSet();
    const [first, second, third] = names;
    if (first !== undefined && second !== undefined) {
      const source = lookupSource(env, first);
      if (source) reads.addAll(this.columnOf(source, second).reads);
    }
    if (names.length === 4 && second !== undefined && third !== undefined) reads.add(second.toLowerCase(), third);
    return reads;
  }

  /**
   * An unqualified column: PostgreSQL searches the innermost FROM list, then each enclosing one,
   * and stops at the first level that has the column. A level stops the search here only when
   * one of its relations certainly has the column (a subquery output, a column alias); base
   * tables may or may not have it, so the search goes on and every candidate counts.
   */
  private columnByName(column: string, env: OutputEnv): Resolution {
    const reads = this.newSet();
    const candidates: Resolution[] = [];
    for (const scope of scopesOutward(env)) {
      let certain = false;
      for (const relation of scope.relations) {
        if (relation.kind === "table") {
          if (relation.columnAliases?.includes(column)) {
            certain = true;
            candidates.push({ reads: this.newSet().add(relation.name, "*"), direct: null, isValue: false });
          } else {
            candidates.push({ reads: this.newSet().add(relation.name, column), direct: { table: relation.name, column }, isValue: true });
          }
        } else if (relation.kind === "query") {
          const match = this.matchOutputs(relation, column, false);
          if (match.outputs.length === 0) continue;
          certain ||= match.certain;
          candidates.push(this.resolutionOf(match));
        } else if (relation.kind === "function") {
          candidates.push({ reads: this.readsOfExpression(relation.node, relation.env), direct: null, isValue: false });
        }
      }
      if (certain) break;
    }
    for (const candidate of candidates) reads.addAll(candidate.reads);
    return {
      reads,
      direct: candidates.length === 1 ? (candidates[0] as Resolution).direct : null,
      // Whichever candidate the server picks, it is a column's value only if each one is.
      isValue: candidates.length > 0 && candidates.every((candidate) => candidate.isValue),
    };
  }

  /** `q.column` where q is a known relation. */
  private columnOf(source: OutputSource, column: string): Resolution {
    switch (source.kind) {
      case "table":
        if (source.columnAliases?.includes(column)) {
          // Renamed by position: which real column it is, the catalog knows, the parse does not.
          return { reads: this.newSet().add(source.name, "*"), direct: null, isValue: false };
        }
        return { reads: this.newSet().add(source.name, column), direct: { table: source.name, column }, isValue: true };
      case "query":
        return this.resolutionOf(this.matchOutputs(source, column, true));
      case "function":
        return { reads: this.readsOfExpression(source.node, source.env), direct: null, isValue: false };
      case "join": {
        const reads = this.newSet();
        if (source.columnAliases?.includes(column)) {
          for (const member of source.members) reads.addAll(this.wholeRow(member));
        }
        for (const member of source.members) reads.addAll(this.columnOf(member, column).reads);
        return { reads, direct: null, isValue: false };
      }
    }
  }

  /**
   * The outputs of a subquery or CTE that `column` may name: exact matches plus every output
   * whose name is uncertain. Qualified (`s.x`), a name that matches nothing still exists (the
   * server would have refused it otherwise), so every output counts.
   */
  private matchOutputs(
    source: Extract<OutputSource, { kind: "query" }>,
    column: string,
    qualified: boolean,
  ): { outputs: TracedOutput[]; certain: boolean; exact: boolean } {
    const outputs = this.outputsOf(source.type, source.body, source.env);
    const aliases = source.columnAliases ?? [];
    // Column aliases rename by position: a star among the renamed positions hides which is which.
    const renamingKnown = !outputs.slice(0, aliases.length).some((output) => output.star);
    if (!renamingKnown) return { outputs, certain: false, exact: false };
    const exact: TracedOutput[] = [];
    const possible: TracedOutput[] = [];
    outputs.forEach((output, index) => {
      const alias = aliases[index];
      const name = alias ?? output.name;
      const certainName = alias !== undefined || (output.certain && !output.star);
      if (!certainName) possible.push(output);
      else if (name === column) exact.push(output);
    });
    if (exact.length === 0 && possible.length === 0) {
      return qualified ? { outputs, certain: false, exact: false } : { outputs: [], certain: false, exact: false };
    }
    return { outputs: [...exact, ...possible], certain: exact.length > 0, exact: exact.length === 1 && possible.length === 0 };
  }

  private resolutionOf(match: { outputs: TracedOutput[]; exact: boolean }): Resolution {
    const reads = this.newSet();
    for (const output of match.outputs) reads.addAll(output.reads);
    const only = match.outputs[0];
    return { reads, direct: match.exact && only ? only.direct : null, isValue: match.outputs.length > 0 && match.outputs.every((output) => output.isValue) };
  }

  /** Every column a relation's whole row (`u`, `u.*`, `row_to_json(u)`) carries. */
  private wholeRow(source: OutputSource): SourceColumnSet {
    const reads = this.newSet();
    switch (source.kind) {
      case "table":
        return reads.add(source.name, "*");
      case "query":
        for (const output of this.outputsOf(source.type, source.body, source.env)) reads.addAll(output.reads);
        return reads;
      case "function":
        return this.readsOfExpression(source.node, source.env);
      case "join":
        for (const member of source.members) reads.addAll(this.wholeRow(member));
        return reads;
    }
  }

  // ── what an expression reads ──────────────────────────────────────────────────────────────

  /** Every column an expression reads, subqueries inside it included (iterative: trees can be deep). */
  private readsOfExpression(expression: unknown, env: OutputEnv): SourceColumnSet {
    const reads = this.newSet();
    const pending: unknown[] = [expression];
    while (pending.length > 0) {
      const value = pending.pop();
      if (Array.isArray(value)) {
        pending.push(...value);
        continue;
      }
      if (!isAstObject(value)) continue;
      const node = unwrapNode(value);
      if (node) {
        if (node.type === "ColumnRef") {
          reads.addAll(this.resolveColumnRef(listField(node.body, "fields"), env).reads);
          continue;
        }
        if (node.type === "A_Indirection") {
          const selected = this.fieldSelection(node.body, env);
          if (selected) {
            reads.addAll(selected);
            pending.push(node.body.indirection);
            continue;
          }
        }
        if (node.type === "SelectStmt" || MODIFY_TYPES.has(node.type)) {
          reads.addAll(this.allReads(node.type, node.body, env));
          continue;
        }
      }
      for (const child of Object.values(node ? node.body : value)) {
        if (typeof child === "object" && child !== null) pending.push(child);
      }
    }
    return reads;
  }

  /** `(u).email`: one column of relation u's row, or field email of a composite column u. */
  private fieldSelection(body: AstObject, env: OutputEnv): SourceColumnSet | null {
    const arg = unwrapNode(body.arg);
    if (!arg || arg.type !== "ColumnRef") return null;
    const fields = listField(arg.body, "fields");
    const name = fields.length === 1 ? stringNodeValue(fields[0]) : undefined;
    const field = stringNodeValue(listField(body, "indirection")[0]);
    if (name === undefined || field === undefined) return null;
    const source = lookupSource(env, name);
    if (!source) return null;
    return this.newSet().addAll(this.columnOf(source, field).reads).addAll(this.columnByName(name, env).reads);
  }

  /** Every column a query references anywhere (targets, WHERE, joins, CTEs …), each in its scope. */
  private allReads(type: string, body: AstObject, env: OutputEnv): SourceColumnSet {
    const known = this.readsByQuery.get(body);
    if (known) return known;
    if (this.inProgress.has(body)) return this.wholeRowsWithin(body);
    this.inProgress.add(body);
    try {
      const reads = this.newSet();
      const { env: inner, ctes } = this.enterWith(objectField(body, "withClause"), env);
      for (const cte of ctes) reads.addAll(this.allReads(cte.type, cte.body, cte.env));
      if (type === "SelectStmt") {
        for (const arm of [body.larg, body.rarg]) if (isAstObject(arm)) reads.addAll(this.allReads("SelectStmt", arm, inner));
        const scope = this.buildFromScope(listField(body, "fromClause"), inner, reads);
        this.addFieldReads(body, SELECT_SCOPED_FIELDS, withScope(inner, scope), reads);
      } else if (MODIFY_TYPES.has(type)) {
        const source = unwrapNode(body.selectStmt);
        if (source) reads.addAll(this.allReads(source.type, source.body, inner));
        const scoped = this.modifyEnv(type, body, inner, reads);
        this.addFieldReads(body, MODIFY_SCOPED_FIELDS, scoped, reads);
        const returning = objectField(body, "returningClause");
        if (returning) reads.addAll(this.readsOfExpression(listField(returning, "exprs"), scoped));
      } else {
        reads.addAll(this.readsOfExpression(body, inner));
      }
      this.readsByQuery.set(body, reads);
      return reads;
    } finally {
      this.inProgress.delete(body);
    }
  }

  private addFieldReads(body: AstObject, skip: ReadonlySet<string>, env: OutputEnv, reads: SourceColumnSet): void {
    for (const [key, child] of Object.entries(body)) {
      if (skip.has(key) || typeof child !== "object" || child === null) continue;
      reads.addAll(this.readsOfExpression(child, env));
    }
  }

  // ── fallback ──────────────────────────────────────────────────────────────────────────────

  /** The whole row of every relation under `root`, following CTE names into their bodies. */
  private wholeRowsWithin(root: unknown): SourceColumnSet {
    const reads = this.newSet();
    for (const name of relationsWithin(root, () => this.cteQueries())) reads.add(name, "*");
    return reads;
  }

  private cteQueries(): Map<string, unknown[]> {
    this.cteQueriesByName ??= collectCteQueries(this.root);
    return this.cteQueriesByName;
  }
}

/** Casts that keep a text value whole: to text or unbounded varchar (a length would cut it). */
const VALUE_KEEPING_TYPES = new Set(["text", "varchar"]);
/** Case folding keeps every character's place: what a shape-keeping mask shows stays the same part. */
const CASE_FOLDING_FUNCTIONS = new Set(["upper", "lower", "initcap"]);

/**
 * The column reference an expression is the value of, through casts to text or unbounded
 * varchar, COLLATE and upper/lower/initcap (nested in any order); undefined for anything else
 * (every other function, operator, concatenation, CASE, a cast that may cut or reshape it).
 */
function valueColumnRef(expression: unknown): unknown[] | undefined {
  let node = unwrapNode(expression);
  for (;;) {
    if (!node) return undefined;
    switch (node.type) {
      case "ColumnRef":
        return isStarRef(node.body) ? undefined : listField(node.body, "fields");
      case "CollateClause":
        node = unwrapNode(node.body.arg);
        continue;
      case "TypeCast": {
        const typeName = objectField(node.body, "typeName");
        const names = typeName ? listField(typeName, "names").map(stringNodeValue) : [];
        const schema = names.length === 2 ? names[0] : undefined;
        const keeps =
          typeName !== undefined &&
          (names.length === 1 || schema === "pg_catalog") &&
          VALUE_KEEPING_TYPES.has(names[names.length - 1] ?? "") &&
          listField(typeName, "typmods").length === 0 &&
          listField(typeName, "arrayBounds").length === 0;
        if (!keeps) return undefined;
        node = unwrapNode(node.body.arg);
        continue;
      }
      case "FuncCall": {
        const names = listField(node.body, "funcname").map(stringNodeValue);
        const args = listField(node.body, "args");
        const plain = ["agg_order", "agg_filter", "over", "agg_within_group", "agg_star", "agg_distinct", "func_variadic"].every((key) => node!.body[key] === undefined || node!.body[key] === false);
        const builtin = names.length === 1 || (names.length === 2 && names[0] === "pg_catalog");
        if (!builtin || !plain || args.length !== 1 || !CASE_FOLDING_FUNCTIONS.has(names[names.length - 1] ?? "")) return undefined;
        node = unwrapNode(args[0]);
        continue;
      }
      default:
        return undefined;
    }
  }
}

function isStarRef(columnRef: AstObject): boolean {
  const fields = listField(columnRef, "fields");
  return unwrapNode(fields[fields.length - 1])?.type === "A_Star";
}

function stringList(values: unknown[]): string[] | null {
  const names = values.map(stringNodeValue).filter((name): name is string => name !== undefined);
  return names.length > 0 ? names : null;
}

/** `AS s(a, b)` column aliases of a FROM item. */
function aliasColumnNames(body: AstObject): string[] | null {
  const alias = objectField(body, "alias");
  return alias ? stringList(listField(alias, "colnames")) : null;
}

/** An unaliased function in FROM is named after the function (`FROM unnest(…)` → unnest). */
function rangeFunctionName(type: string, body: AstObject): string | undefined {
  if (type !== "RangeFunction") return undefined;
  const functions = listField(body, "functions");
  if (functions.length !== 1) return undefined;
  const pair = unwrapNode(functions[0]);
  const call = pair && pair.type === "List" ? unwrapNode(listField(pair.body, "items")[0]) : null;
  if (!call || call.type !== "FuncCall") return undefined;
  const parts = listField(call.body, "funcname");
  return stringNodeValue(parts[parts.length - 1]);
}
