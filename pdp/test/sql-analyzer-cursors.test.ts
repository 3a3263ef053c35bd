import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { createSqlAnalyzer, type SqlAnalyzer, type SqlStatementFacts } from "../src/enrichment/sql-analyzer.ts";
import { oneStatement } from "./support/one-statement.ts";

/**
 * SQL cursors: DECLARE is judged as the query it declares (its rows are what FETCH returns), and
 * every cursor statement names its cursor so a PEP can tie FETCH's rows to that DECLARE.
 */
let analyzer: SqlAnalyzer;

before(async () => {
  analyzer = await createSqlAnalyzer();
});

function one(sql: string): SqlStatementFacts {
  return oneStatement((text) => analyzer.analyze(text), sql);
}

/** The facts policy judges a query by (everything but the statement's own node, text and cursor). */
function judged(facts: SqlStatementFacts): Partial<SqlStatementFacts> {
  const { kind, operations, tables, columns, star_tables, functions, writes, outputs } = facts;
  return { kind, operations, tables, columns, star_tables, functions, writes, outputs };
}

describe("DECLARE … CURSOR is judged as its query", () => {
  const queries = [
    "SELECT upper(email) AS e, row_to_json(u) FROM users u WHERE id > 1",
    "SELECT * FROM users",
    "SELECT ssn FROM users UNION ALL SELECT item FROM orders",
    "VALUES (1, 'a')",
    "SELECT id FROM orders FOR UPDATE",
    "SELECT (SELECT phone FROM users LIMIT 1), lower(pg_read_file('x'))",
    // PostgreSQL refuses this inside DECLARE, but policy must still see the write.
    "WITH d AS (DELETE FROM orders WHERE id = 1 RETURNING *) SELECT * FROM d",
  ];
  for (const query of queries) {
    test(query, () => {
      const declared = one(`DECLARE c CURSOR FOR ${query}`);
      assert.deepEqual(judged(declared), judged(one(query)));
      assert.equal(declared.node, "DeclareCursorStmt");
    });
  }

  test("a cursor over a data-modifying CTE is a write", () => {
    const declared = one("DECLARE c CURSOR FOR WITH d AS (UPDATE users SET email = 'x' WHERE id = 1 RETURNING id) SELECT id FROM d");
    assert.equal(declared.writes, true);
    assert.deepEqual(declared.operations.map((op) => op.kind).sort(), ["select", "update"]);
  });

  test("psql's FETCH_COUNT wrapper keeps the query's outputs", () => {
    const query = "SELECT id, upper(email) FROM users ORDER BY id";
    const declared = one(`DECLARE _psql_cursor NO SCROLL CURSOR FOR\n${query}`);
    assert.deepEqual(declared.outputs, one(query).outputs);
    assert.deepEqual(declared.cursor, { name: "_psql_cursor", operation: "declare", hold: false });
  });
});

describe("cursor facts", () => {
  test("names are folded as identifiers: unquoted lower-cased, quoted exact", () => {
    assert.equal(one("DECLARE MyCur CURSOR FOR SELECT 1").cursor?.name, "mycur");
    assert.equal(one('DECLARE "MyCur" CURSOR FOR SELECT 1').cursor?.name, "MyCur");
    assert.equal(one("FETCH NEXT FROM MyCur").cursor?.name, "mycur");
    assert.equal(one('FETCH NEXT FROM "MyCur"').cursor?.name, "MyCur");
  });

  test("WITH HOLD is reported; everything else about DECLARE's options is not policy's concern", () => {
    assert.equal(one("DECLARE c BINARY SCROLL CURSOR WITH HOLD FOR SELECT 1").cursor?.hold, true);
    assert.equal(one("DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1").cursor?.hold, false);
    assert.equal(one("DECLARE c NO SCROLL CURSOR FOR SELECT 1").cursor?.hold, false);
  });

  test("FETCH, MOVE and CLOSE name their cursor and what they do to it", () => {
    const cases: Array<[string, SqlStatementFacts["cursor"]]> = [
      ["FETCH FORWARD 100 FROM _psql_cursor", { name: "_psql_cursor", operation: "fetch", hold: false }],
      ["FETCH c", { name: "c", operation: "fetch", hold: false }],
      ["FETCH ALL IN c", { name: "c", operation: "fetch", hold: false }],
      ["FETCH ABSOLUTE -1 FROM c", { name: "c", operation: "fetch", hold: false }],
      ["MOVE BACKWARD 5 IN c", { name: "c", operation: "move", hold: false }],
      ["CLOSE c", { name: "c", operation: "close", hold: false }],
      ["CLOSE ALL", { name: null, operation: "close", hold: false }],
    ];
    for (const [sql, cursor] of cases) {
      const facts = one(sql);
      assert.equal(facts.kind, "cursor", sql);
      assert.deepEqual(facts.cursor, cursor, sql);
      // What FETCH returns is the DECLARE's business: the text alone does not say.
      assert.equal(facts.outputs, null, sql);
      assert.equal(facts.writes, false, sql);
      assert.deepEqual(facts.tables, [], sql);
    }
  });

  test("other statements have no cursor", () => {
    for (const sql of ["SELECT 1", "PREPARE q AS SELECT 1", "EXECUTE q", "BEGIN", "DISCARD ALL"]) {
      assert.equal(one(sql).cursor, null, sql);
    }
  });
});
