/**
 * One walk over a top-level statement's parse tree that records what policy needs: every DML
 * operation, relation, column, `*`/whole-row target and function call, wherever it sits
 * (CTEs, subqueries, EXPLAIN/PREPARE/COPY/CREATE RULE/VIEW bodies, function arguments …).
 *
 * Every field of every node is visited; the node types below only add scope handling on top.
 * A node type this file does not know is still walked, so nothing under it goes unseen.
 */
import {
  aliasName,
  booleanField,
  inlineFieldType,
  isAstObject,
  listField,
  objectField,
  stringField,
  stringNodeValue,
  typedNode,
  unwrapNode,
  type AstObject,
} from "./ast-nodes.ts";
import { RelationScope, ScopeStack, type RelationSource } from "./relation-scope.ts";
import { collectCteQueries, relationsWithin } from "./relations-within.ts";
import { CallRecorder } from "./call-recorder.ts";
import type { SqlColumnRef, SqlOperation, SqlOperationKind, SqlStatementFacts } from "./sql-facts.ts";

/** The facts a walk over one statement's tree collects. */
export type WalkedFacts = Pick<SqlStatementFacts, 'operations' | 'tables' | 'columns' | 'star_tables' | 'functions' | 'writes' | 'calls' | 'locking'>;

const MODIFY_KINDS: Readonly<Record<string, SqlOperationKind>> = {
  InsertStmt: "insert",
  UpdateStmt: "update",
  DeleteStmt: "delete",
  MergeStmt: "merge",
};

/** DROP of these object types names relations (as string lists, not RangeVars). */
const RELATION_DROP_TYPES = new Set([
  "OBJECT_TABLE",
  "OBJECT_VIEW",
  "OBJECT_MATVIEW",
  "OBJECT_FOREIGN_TABLE",
  "OBJECT_SEQUENCE",
]);

/** Fields a scoped handler visits itself, in the right scope, instead of the generic pass. */
const SELECT_OWN_FIELDS = new Set(["withClause"]);
const MODIFY_OWN_FIELDS = new Set(["withClause", "relation", "selectStmt", "onConflictClause", "returningClause"]);
const COPY_OWN_FIELDS = new Set(["relation"]);

export function walkStatement(root: unknown): WalkedFacts {
  const walker = new StatementWalker(root);
  walker.visit(root, undefined);
  return walker.result();
}

class StatementWalker {
  private readonly scopes = new ScopeStack();
  private readonly operations: SqlOperation[] = [];
  private readonly tables = new Set<string>();
  private readonly columns = new Map<string, SqlColumnRef>();
  private readonly starTables = new Set<string>();
  /** A `*` whose relations could not be told: every relation of the statement counts. */
  private starOfEverything = false;
  private readonly functions = new Set<string>();
  private writes = false;
  private readonly calls = new CallRecorder();
  /** FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE anywhere: rows get locked. */
  private locking = false;

  /** Built on first use: only a `*` over a subquery or CTE needs it. */
  private cteQueriesByName: Map<string, unknown[]> | undefined;
  /** relationsWithin answers by subtree: a chain of CTEs each starring the previous stays linear. */
  private readonly relationsByRoot = new Map<unknown, Set<string>>();

  constructor(private readonly root: unknown) {}

  private cteQueries(): Map<string, unknown[]> {
    this.cteQueriesByName ??= collectCteQueries(this.root);
    return this.cteQueriesByName;
  }

  result(): WalkedFacts {
    if (this.starOfEverything) for (const table of this.tables) this.starTables.add(table);
    return {
      operations: this.operations,
      tables: [...this.tables].sort(),
      columns: [...this.columns.values()].sort(compareColumns),
      star_tables: [...this.starTables].sort(),
      functions: [...this.functions].sort(),
      writes: this.writes,
      calls: this.calls.result(),
      locking: this.locking,
    };
  }

  visit(value: unknown, hint: string | undefined): void {
    if (Array.isArray(value)) {
      for (const item of value) this.visit(item, undefined);
      return;
    }
    if (!isAstObject(value)) return;
    const node = typedNode(value, hint);
    if (node) this.visitNode(node.type, node.body);
    else this.visitFields(undefined, value);
  }

  private visitFields(type: string | undefined, body: AstObject, skip?: ReadonlySet<string>): void {
    for (const [key, child] of Object.entries(body)) {
      if (skip?.has(key) || typeof child !== "object" || child === null) continue;
      this.visit(child, inlineFieldType(type, key));
    }
  }

  private visitNode(type: string, body: AstObject): void {
    // Every function, operator, cast and sampling method the statement invokes (call-recorder.ts).
    this.calls.record(type, body);
    switch (type) {
      case "RangeVar":
        this.recordRangeVar(body);
        return;
      case "ColumnRef":
        this.recordColumnRef(body);
        return;
      case "A_Indirection":
        if (!this.recordFieldSelection(body)) this.visitFields(type, body);
        return;
      case "FuncCall":
      case "CreateTrigStmt": // EXECUTE FUNCTION f(): called on every firing
      case "CreateEventTrigStmt":
        this.recordFunction(body);
        break;
      case "SelectStmt":
        this.visitSelect(body, true);
        return;
      case "InsertStmt":
      case "UpdateStmt":
      case "DeleteStmt":
      case "MergeStmt":
        this.visitModify(type, body);
        return;
      case "CopyStmt":
        this.visitCopy(body);
        return;
      case "CreateTableAsStmt":
      case "TruncateStmt":
      case "RefreshMatViewStmt":
        this.writes = true;
        break;
      case "DropStmt":
        this.recordDroppedRelations(body);
        break;
    }
    const relation = type.endsWith("Stmt") ? utilityRelation(type, body) : undefined;
    if (relation) {
      // CHECK constraints, index expressions, policy quals, trigger WHEN and rule actions name
      // the statement's relation (and OLD/NEW for rules and triggers).
      const scope = new RelationScope();
      const source: RelationSource = { kind: "table", name: relname(relation).toLowerCase() };
      for (const name of [relname(relation), "old", "new"]) scope.add(name, source);
      this.scopes.push(scope);
      this.visitFields(type, body);
      this.scopes.pop();
    } else {
      this.visitFields(type, body);
    }
  }

  // ── statements with a FROM scope ──────────────────────────────────────────────────────────

  private visitSelect(body: AstObject, recordOperation: boolean): void {
    const setOperation = stringField(body, "op");
    // A UNION/INTERSECT/EXCEPT node only joins its two arms, which record themselves.
    if (recordOperation && (setOperation === undefined || setOperation === "SETOP_NONE")) {
      this.recordSelectOperations(body);
    }
    if (objectField(body, "intoClause")) this.writes = true;
    if (listField(body, "lockingClause").length > 0) this.locking = true;
    const withFrame = this.enterWith(objectField(body, "withClause"));
    const scope = new RelationScope();
    for (const item of listField(body, "fromClause")) this.addFromItem(scope, item);
    this.scopes.push(scope);
    this.visitFields("SelectStmt", body, SELECT_OWN_FIELDS);
    this.scopes.pop();
    if (withFrame) this.scopes.popCteFrame();
  }

  private visitModify(type: string, body: AstObject): void {
    const kind = MODIFY_KINDS[type] as SqlOperationKind;
    const relation = objectField(body, "relation");
    const name = relation ? relname(relation) : "";
    this.writes = true;
    this.operations.push({
      kind,
      table: relation ? name.toLowerCase() : null,
      schema: relation ? (stringField(relation, "schemaname") ?? null) : null,
      has_where: kind === "update" || kind === "delete" ? body.whereClause !== undefined : null,
    });

    const withFrame = this.enterWith(objectField(body, "withClause"));
    if (relation) this.recordRangeVar(relation);
    // The target is always a table: a DML target never resolves to a CTE.
    const target: RelationSource = { kind: "table", name: name.toLowerCase() };
    const scope = new RelationScope();
    scope.add(relation ? (aliasName(relation) ?? name) : undefined, target);

    if (type === "InsertStmt") {
      // The source query does not see the target table, so it is walked outside its scope.
      const source = unwrapNode(body.selectStmt);
      if (source && source.type === "SelectStmt") {
        // `VALUES (…)` is the insert's own row list, not a separate read.
        this.visitSelect(source.body, !("valuesLists" in source.body));
      } else {
        this.visit(body.selectStmt, undefined);
      }
      this.recordAssignedColumns(listField(body, "cols"), target);
    }
    if (type === "UpdateStmt") for (const item of listField(body, "fromClause")) this.addFromItem(scope, item);
    if (type === "DeleteStmt") for (const item of listField(body, "usingClause")) this.addFromItem(scope, item);
    if (type === "MergeStmt") this.addFromItem(scope, body.sourceRelation);

    this.scopes.push(scope);
    this.visitFields(type, body, MODIFY_OWN_FIELDS);
    if (type === "UpdateStmt") this.recordAssignedColumns(listField(body, "targetList"), target);
    if (type === "MergeStmt") {
      for (const clause of listField(body, "mergeWhenClauses")) {
        const when = unwrapNode(clause);
        if (when) this.recordAssignedColumns(listField(when.body, "targetList"), target);
      }
    }
    const onConflict = objectField(body, "onConflictClause");
    if (onConflict) {
      this.withPseudoNames(["excluded"], target, () => this.visit(onConflict, "OnConflictClause"));
      this.recordAssignedColumns(listField(onConflict, "targetList"), target);
    }
    const returning = objectField(body, "returningClause");
    // RETURNING old.* / new.* (PostgreSQL 18) name the target.
    if (returning) this.withPseudoNames(["old", "new"], target, () => this.visit(returning, "ReturningClause"));
    this.scopes.pop();
    if (withFrame) this.scopes.popCteFrame();
  }

  private visitCopy(body: AstObject): void {
    const isFrom = booleanField(body, "is_from");
    if (isFrom) this.writes = true;
    const relation = objectField(body, "relation");
    if (!relation) {
      this.visitFields("CopyStmt", body);
      return;
    }
    const name = relname(relation);
    const source: RelationSource = { kind: "table", name: name.toLowerCase() };
    this.recordRangeVar(relation);
    const attributes = listField(body, "attlist");
    for (const attribute of attributes) {
      const column = stringNodeValue(attribute);
      if (column !== undefined) this.addColumn(source.name, column);
    }
    // `COPY users TO …` without a column list copies every column.
    if (!isFrom && attributes.length === 0) this.starTables.add(source.name);
    const scope = new RelationScope();
    scope.add(name, source);
    this.scopes.push(scope);
    this.visitFields("CopyStmt", body, COPY_OWN_FIELDS);
    this.scopes.pop();
  }

  private withPseudoNames(names: string[], target: RelationSource, walk: () => void): void {
    const scope = new RelationScope(true);
    for (const name of names) scope.add(name, target);
    this.scopes.push(scope);
    walk();
    this.scopes.pop();
  }

  /**
   * Walks the CTE bodies (outside the statement's own FROM scope, which they cannot see) and
   * makes their names visible: all at once for WITH RECURSIVE, otherwise each after its body,
   * so `WITH a AS (SELECT * FROM users), users AS (…)` still reads the real users table in a.
   */
  private enterWith(withClause: AstObject | undefined): boolean {
    if (!withClause) return false;
    const frame = this.scopes.pushCteFrame();
    const ctes = listField(withClause, "ctes")
      .map(unwrapNode)
      .filter((node) => node !== null && node.type === "CommonTableExpr")
      .map((node) => (node as { body: AstObject }).body);
    if (booleanField(withClause, "recursive")) {
      for (const cte of ctes) frame.set(stringField(cte, "ctename") ?? "", cte.ctequery);
    }
    for (const cte of ctes) {
      this.visitFields("CommonTableExpr", cte);
      frame.set(stringField(cte, "ctename") ?? "", cte.ctequery);
    }
    return true;
  }

  private addFromItem(scope: RelationScope, item: unknown): void {
    const node = unwrapNode(item);
    if (!node) return;
    const { type, body } = node;
    switch (type) {
      case "RangeVar":
        scope.add(aliasName(body) ?? relname(body), this.scopes.sourceForRangeVar(body));
        return;
      case "JoinExpr": {
        this.addFromItem(scope, body.larg);
        this.addFromItem(scope, body.rarg);
        for (const key of ["alias", "join_using_alias"]) {
          const alias = objectField(body, key);
          const name = alias ? stringField(alias, "aliasname") : undefined;
          if (name !== undefined) scope.add(name, { kind: "derived", node: body, joinAlias: true });
        }
        return;
      }
      case "RangeTableSample":
        this.addFromItem(scope, body.relation);
        return;
      case "RangeSubselect":
        scope.add(aliasName(body), { kind: "derived", node: body.subquery, joinAlias: false });
        return;
      default:
        // Functions, XMLTABLE, JSON_TABLE …: columns of their own, no base table.
        scope.add(aliasName(body), { kind: "derived", node: body, joinAlias: false });
    }
  }

  // ── facts ─────────────────────────────────────────────────────────────────────────────────

  private recordSelectOperations(body: AstObject): void {
    const relations: AstObject[] = [];
    const collect = (item: unknown): void => {
      const node = unwrapNode(item);
      if (!node) return;
      if (node.type === "RangeVar") relations.push(node.body);
      if (node.type === "JoinExpr") {
        collect(node.body.larg);
        collect(node.body.rarg);
      }
      if (node.type === "RangeTableSample") collect(node.body.relation);
    };
    for (const item of listField(body, "fromClause")) collect(item);
    if (relations.length === 0) {
      this.operations.push({ kind: "select", table: null, schema: null, has_where: null });
    }
    for (const relation of relations) {
      this.operations.push({
        kind: "select",
        table: relname(relation).toLowerCase(),
        schema: stringField(relation, "schemaname") ?? null,
        has_where: null,
      });
    }
  }

  private recordRangeVar(body: AstObject): void {
    const name = stringField(body, "relname");
    if (name !== undefined) this.tables.add(name.toLowerCase());
  }

  private recordDroppedRelations(body: AstObject): void {
    if (!RELATION_DROP_TYPES.has(stringField(body, "removeType") ?? "")) return;
    for (const object of listField(body, "objects")) {
      const names = unwrapNode(object);
      if (!names || names.type !== "List") continue;
      const items = listField(names.body, "items");
      const last = stringNodeValue(items[items.length - 1]);
      if (last !== undefined) this.tables.add(last.toLowerCase());
    }
  }

  private recordFunction(body: AstObject): void {
    const parts = listField(body, "funcname");
    const name = stringNodeValue(parts[parts.length - 1]);
    if (name !== undefined) this.functions.add(name.toLowerCase());
  }

  private recordAssignedColumns(targets: unknown[], target: RelationSource): void {
    for (const item of targets) {
      const node = unwrapNode(item);
      const column = node && node.type === "ResTarget" ? stringField(node.body, "name") : undefined;
      if (column !== undefined) this.addColumn(tableOf(target), column);
    }
  }

  /**
   * ColumnRef forms (PostgreSQL's own reading, every plausible one recorded):
   *   col            column of the only visible relation, or the whole row of relation `col`
   *   q.col          column of relation q, or field `col` of composite column q
   *   a.b.col        schema.table.column, or relation a's composite column b
   *   a.b.c.col      catalog.schema.table.column, or schema.table's composite column c
   *   *, q.*, a.b.*  every column of the FROM list / of q / of a.b
   */
  private recordColumnRef(body: AstObject): void {
    const fields = listField(body, "fields");
    const count = fields.length;
    if (count === 0) return;
    const names = fields.map(stringNodeValue);
    const isStar = unwrapNode(fields[count - 1])?.type === "A_Star";

    if (isStar) {
      if (count === 1) {
        const relations = this.scopes.innermostRelations();
        if (relations) for (const source of relations) this.starSource(source);
        else this.starOfEverything = true;
        return;
      }
      const qualifier = names[count - 2];
      if (count === 2 && qualifier !== undefined) {
        const source = this.scopes.lookup(qualifier);
        if (source) {
          this.starSource(source);
        } else {
          // q.* of a composite column q: its table is the unqualified one.
          this.addColumn(this.scopes.unqualifiedTable(), qualifier);
          this.starOfEverything = true;
        }
        return;
      }
      if (qualifier !== undefined) this.starTables.add(qualifier.toLowerCase());
      this.recordCompositeReading(names);
      return;
    }

    const column = names[count - 1];
    if (column === undefined) return;
    if (count === 1) {
      this.addColumn(this.scopes.unqualifiedTable(), column);
      const wholeRow = this.scopes.lookup(column);
      if (wholeRow) this.starSource(wholeRow);
      return;
    }
    const qualifier = names[0];
    if (count === 2 && qualifier !== undefined) {
      const source = this.scopes.lookup(qualifier);
      if (source) this.addColumn(tableOf(source), column);
      else this.addColumn(this.scopes.unqualifiedTable(), qualifier);
      return;
    }
    const table = names[count - 2];
    if (table !== undefined) this.addColumn(table.toLowerCase(), column);
    this.recordCompositeReading(names);
  }

  /** `a.b.x…`: a as a relation in scope and b its (composite) column; with 4 names, b.c too. */
  private recordCompositeReading(names: Array<string | undefined>): void {
    const [first, second, third] = names;
    if (first !== undefined && second !== undefined) {
      const source = this.scopes.lookup(first);
      if (source) this.addColumn(tableOf(source), second);
    }
    if (names.length === 4 && second !== undefined && third !== undefined) {
      this.addColumn(second.toLowerCase(), third);
    }
  }

  /**
   * `(u).email` selects one field of u's whole row: report users.email instead of every column
   * of users. Any other shape falls back to the generic walk (whole row → star).
   */
  private recordFieldSelection(body: AstObject): boolean {
    const arg = unwrapNode(body.arg);
    if (!arg || arg.type !== "ColumnRef") return false;
    const fields = listField(arg.body, "fields");
    const name = fields.length === 1 ? stringNodeValue(fields[0]) : undefined;
    if (name === undefined) return false;
    const source = this.scopes.lookup(name);
    const indirection = listField(body, "indirection");
    const fieldName = stringNodeValue(indirection[0]);
    if (!source || source.kind !== "table" || fieldName === undefined) return false;
    // `name` may also be a composite column of the visible relation: keep that reading too.
    this.addColumn(this.scopes.unqualifiedTable(), name);
    this.addColumn(source.name, fieldName);
    this.visit(indirection, undefined);
    return true;
  }

  private starSource(source: RelationSource): void {
    if (source.kind === "table") {
      this.starTables.add(source.name);
      return;
    }
    for (const table of this.relationsWithin(source.node)) this.starTables.add(table);
  }

  /** relations-within.ts, answered once per subtree: a chain of CTEs each starring the previous stays linear. */
  private relationsWithin(root: unknown): Set<string> {
    let found = this.relationsByRoot.get(root);
    if (!found) {
      found = relationsWithin(root, () => this.cteQueries(), (node) => this.relationsByRoot.get(node));
      this.relationsByRoot.set(root, found);
    }
    return found;
  }

  private addColumn(table: string | null, column: string): void {
    const key = `${table ?? ""}\u0000${table === null ? "n" : "t"}\u0000${column}`;
    if (!this.columns.has(key)) this.columns.set(key, { table, column });
  }
}

function relname(rangeVar: AstObject): string {
  return stringField(rangeVar, "relname") ?? "";
}

function tableOf(source: RelationSource): string | null {
  return source.kind === "table" ? source.name : null;
}

/** The relation a utility statement is about (`relation` or `table`), when it is a RangeVar. */
function utilityRelation(type: string, body: AstObject): AstObject | undefined {
  for (const key of ["relation", "table"]) {
    if (inlineFieldType(type, key) === "RangeVar") return objectField(body, key);
  }
  return undefined;
}

/** Byte-order sort (not locale-dependent); null tables first. */
function compareColumns(a: SqlColumnRef, b: SqlColumnRef): number {
  const left = `${a.table === null ? "0" : "1"}${a.table ?? ""}\u0000${a.column}`;
  const right = `${b.table === null ? "0" : "1"}${b.table ?? ""}\u0000${b.column}`;
  return left < right ? -1 : left > right ? 1 : 0;
}
