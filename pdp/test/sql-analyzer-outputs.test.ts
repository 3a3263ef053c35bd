import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import {
  createSqlAnalyzer,
  type SqlAnalyzer,
  type SqlOutput,
  type SqlStatementFacts,
} from "../src/enrichment/sql-analyzer.ts";
import { oneStatement } from "./support/one-statement.ts";

/**
 * Output provenance (`outputs`): what each returned column is computed from. The masking PEP
 * relies on it for expression columns, so every case here that under-attributes would leak.
 */
let analyzer: SqlAnalyzer;

before(async () => {
  analyzer = await createSqlAnalyzer();
});

function one(sql: string): SqlStatementFacts {
  return oneStatement((text) => analyzer.analyze(text), sql);
}

function outputs(sql: string): SqlOutput[] {
  const described = one(sql).outputs;
  assert.ok(described !== null, `expected outputs for ${sql}`);
  return described;
}

/** Compact form: name, provenance as "table.column" strings, direct source and star table. */
function brief(output: SqlOutput): string {
  const from = output.derived_from.map((ref) => `${ref.table}.${ref.column}`).join(" ");
  const direct = output.direct ? ` =${output.direct.table}.${output.direct.column}` : "";
  const star = output.star ? ` *${output.star_table ?? "?"}` : "";
  return from === "" ? `${output.name}${star}${direct}` : `${output.name}${star}${direct} <- ${from}`;
}

function briefs(sql: string): string[] {
  return outputs(sql).map(brief);
}

describe("outputs: plain columns", () => {
  test("direct columns keep their alias and resolve to their table", () => {
    assert.deepEqual(briefs("SELECT u.id, u.email AS contact, name FROM users u"), [
      "id =users.id <- users.id",
      "contact =users.email <- users.email",
      "name =users.name <- users.name",
    ]);
  });

  test("the full output object for a direct column", () => {
    assert.deepEqual(outputs("SELECT email FROM users"), [
      { name: "email", star: false, star_table: null, direct: { table: "users", column: "email" }, is_value: true, derived_from: [{ table: "users", column: "email" }] },
    ]);
  });

  test("schema-qualified references", () => {
    assert.deepEqual(briefs("SELECT public.users.email FROM public.users"), ["email =users.email <- users.email"]);
  });

  test("an unqualified column of several relations is no direct column; every candidate counts", () => {
    assert.deepEqual(briefs("SELECT email FROM users, orders"), ["email <- orders.email users.email"]);
  });

  test("quoted identifiers keep the column's case, tables are lower case", () => {
    assert.deepEqual(briefs('SELECT "Email" FROM "Users"'), ["Email =users.Email <- users.Email"]);
  });
});

describe("outputs: stars and whole rows", () => {
  test("* over one table names it; over a join it names none and covers both", () => {
    assert.deepEqual(briefs("SELECT * FROM users"), ["* *users <- users.*"]);
    assert.deepEqual(briefs("TABLE users"), ["* *users <- users.*"]);
    assert.deepEqual(briefs("SELECT * FROM users u JOIN orders o ON o.uid = u.id"), ["* *? <- orders.* users.*"]);
  });

  test("u.* resolves the alias, next to other items in order", () => {
    assert.deepEqual(briefs("SELECT o.id, u.*, 1 FROM users u JOIN orders o ON true"), [
      "id =orders.id <- orders.id",
      "* *users <- users.*",
      "?column?",
    ]);
  });

  test("whole-row references carry the whole row", () => {
    assert.deepEqual(briefs("SELECT row_to_json(u) FROM users u"), ["row_to_json <- users.* users.u"]);
    assert.deepEqual(briefs("SELECT u FROM users u")[0], "u <- users.* users.u");
    assert.deepEqual(briefs("SELECT to_jsonb(users) FROM users"), ["to_jsonb <- users.* users.users"]);
  });

  test("(u).email selects one column of the row", () => {
    assert.deepEqual(briefs("SELECT (u).email FROM users u"), ["email <- users.email users.u"]);
  });

  test("a star over a subquery carries exactly the subquery's columns", () => {
    assert.deepEqual(briefs("SELECT * FROM (SELECT id, upper(email) FROM users) s"), ["* *? <- users.email users.id"]);
    assert.deepEqual(briefs("SELECT d.* FROM (SELECT * FROM users) d"), ["* *? <- users.*"]);
  });
});

describe("outputs: expressions", () => {
  test("functions, casts, operators, CASE, COALESCE read their arguments", () => {
    assert.deepEqual(
      briefs(
        "SELECT upper(email), email::text, CAST(ssn AS varchar(4)), phone || '!', CASE WHEN id > 1 THEN card END, coalesce(a, b) FROM users",
      ),
      [
        "upper <- users.email",
        "email <- users.email",
        "ssn <- users.ssn",
        "?column? <- users.phone",
        "case <- users.card users.id",
        "coalesce <- users.a users.b",
      ],
    );
  });

  test("aggregates read their arguments and FILTER/OVER clauses; count(*) reads nothing", () => {
    assert.deepEqual(briefs("SELECT string_agg(email, ','), count(*), count(*) FILTER (WHERE ssn > '5') FROM users"), [
      "string_agg <- users.email",
      "count",
      "count <- users.ssn",
    ]);
    assert.deepEqual(briefs("SELECT lag(ssn) OVER (PARTITION BY phone ORDER BY id) FROM users"), [
      "lag <- users.id users.phone users.ssn",
    ]);
  });

  test("a scalar subquery reads every column it references, its WHERE included", () => {
    assert.deepEqual(briefs("SELECT (SELECT count(*) FROM users WHERE ssn LIKE '1%') AS n"), ["n <- users.ssn"]);
  });

  test("a correlated subquery may read the outer relation's column", () => {
    assert.deepEqual(briefs("SELECT (SELECT ssn FROM orders LIMIT 1) FROM users"), ["ssn <- orders.ssn users.ssn"]);
    assert.deepEqual(briefs("SELECT (SELECT u.ssn FROM orders o WHERE o.uid = u.id) FROM users u"), [
      "ssn <- orders.uid users.id users.ssn",
    ]);
  });

  test("EXISTS and IN subqueries read what they compare (an unqualified name may be the outer one)", () => {
    assert.deepEqual(briefs("SELECT EXISTS (SELECT 1 FROM users u WHERE u.ssn = '1'), id IN (SELECT o.uid FROM orders o) FROM t"), [
      "exists <- users.ssn",
      "?column? <- orders.uid t.id",
    ]);
    assert.deepEqual(briefs("SELECT EXISTS (SELECT 1 FROM users WHERE ssn = '1') FROM t"), ["exists <- t.ssn users.ssn"]);
  });

  test("constants and parameters read nothing", () => {
    assert.deepEqual(briefs("SELECT 1, 'x' AS label, $1, now()"), ["?column?", "label", "?column?", "now"]);
  });
});

describe("outputs: subqueries and CTEs", () => {
  test("a subquery's column is traced to its source, through aliases", () => {
    assert.deepEqual(briefs("SELECT s.e, s.upper FROM (SELECT ssn AS e, upper(email) FROM users) s"), [
      "e =users.ssn <- users.ssn",
      "upper <- users.email",
    ]);
    assert.deepEqual(briefs("SELECT x.s FROM (SELECT ssn AS s FROM users) x"), ["s =users.ssn <- users.ssn"]);
  });

  test("subquery column aliases rename by position", () => {
    assert.deepEqual(briefs("SELECT a, lower(b) FROM (SELECT id, email FROM users) AS s(a, b)"), [
      "a =users.id <- users.id",
      "lower <- users.email",
    ]);
  });

  test("a name a subquery does not certainly have counts as every column it has", () => {
    assert.deepEqual(briefs("SELECT s.anything FROM (SELECT xmlelement(name x, ssn) FROM users) s"), [
      "anything <- users.ssn",
    ]);
  });

  test("CTE columns, CTE column aliases and CTEs reading CTEs", () => {
    assert.deepEqual(briefs("WITH p AS (SELECT phone FROM users) SELECT * FROM p"), ["* *? <- users.phone"]);
    assert.deepEqual(briefs("WITH c(x) AS (SELECT ssn FROM users) SELECT upper(x) FROM c"), ["upper <- users.ssn"]);
    assert.deepEqual(briefs("WITH a AS (SELECT ssn, id FROM users), b AS (SELECT ssn AS s FROM a) SELECT b.s FROM b"), [
      "s =users.ssn <- users.ssn",
    ]);
  });

  test("a CTE named like a table is the CTE; a CTE cannot see a later one of the same name", () => {
    assert.deepEqual(briefs("WITH users AS (SELECT 1 AS email) SELECT email FROM users"), ["email"]);
    assert.deepEqual(briefs("WITH a AS (SELECT * FROM users), users AS (SELECT 1) SELECT * FROM a"), ["* *? <- users.*"]);
  });

  test("a data-modifying CTE's RETURNING is what its readers see", () => {
    assert.deepEqual(briefs("WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) SELECT d.email FROM d"), [
      "email <- users.*",
    ]);
  });

  test("a recursive CTE's own columns count as everything it reads", () => {
    const [output] = outputs(
      "WITH RECURSIVE r AS (SELECT id, email FROM users UNION ALL SELECT r.id, r.email FROM r) SELECT * FROM r",
    );
    assert.ok(output?.derived_from.some((ref) => ref.table === "users" && (ref.column === "*" || ref.column === "email")));
  });

  test("a LATERAL subquery and a function in FROM read the items before them", () => {
    assert.deepEqual(briefs("SELECT s.x FROM users u, LATERAL (SELECT u.ssn AS x) s"), ["x =users.ssn <- users.ssn"]);
    assert.deepEqual(briefs("SELECT g FROM users u, unnest(ARRAY[u.ssn]) g")[0], "g <- users.g users.ssn");
  });

  test("a FROM alias list on a table renames columns the parse cannot identify: the whole row", () => {
    assert.deepEqual(briefs("SELECT upper(x) FROM users AS u(id, x)"), ["upper <- users.*"]);
    assert.deepEqual(briefs("SELECT u.x FROM users AS u(id, x)"), ["x <- users.*"]);
  });

  test("a join alias covers its members", () => {
    assert.deepEqual(briefs("SELECT j.email FROM (users JOIN orders USING (id)) j"), ["email <- orders.email users.email"]);
  });
});

describe("outputs: set operations and VALUES", () => {
  test("UNION merges position by position, named by the left arm", () => {
    assert.deepEqual(briefs("SELECT email, id FROM users UNION SELECT note, id FROM orders"), [
      "email <- orders.note users.email",
      "id <- orders.id users.id",
    ]);
  });

  test("a star in either arm makes one star of everything", () => {
    assert.deepEqual(briefs("SELECT * FROM users EXCEPT SELECT id, 'x' FROM orders"), ["* *? <- orders.id users.*"]);
  });

  test("WITH on a set operation applies to both arms", () => {
    assert.deepEqual(briefs("WITH c AS (SELECT ssn FROM users) SELECT ssn FROM c UNION ALL SELECT 'n'"), [
      "ssn <- users.ssn",
    ]);
  });

  test("VALUES columns", () => {
    assert.deepEqual(briefs("VALUES (1, 'a'), (2, 'b')"), ["column1", "column2"]);
    assert.deepEqual(briefs("SELECT v.b FROM users u, LATERAL (VALUES (u.id, u.ssn)) AS v(a, b)"), ["b <- users.ssn"]);
  });
});

describe("outputs: DML RETURNING", () => {
  test("RETURNING columns, star and OLD/NEW of the target", () => {
    assert.deepEqual(briefs("DELETE FROM users WHERE id = 1 RETURNING id, *"), ["id =users.id <- users.id", "* *users <- users.*"]);
    assert.deepEqual(briefs("UPDATE users SET a = 1 WHERE id = 1 RETURNING old.*, new.email"), [
      "* *users <- users.*",
      "email =users.email <- users.email",
    ]);
    assert.deepEqual(briefs("UPDATE users SET a = 1 WHERE id = 1 RETURNING WITH (OLD AS o) upper(o.ssn)"), [
      "upper <- users.ssn",
    ]);
  });

  test("UPDATE … FROM and DELETE … USING return columns of the other relations too", () => {
    assert.deepEqual(briefs("UPDATE orders o SET note = 'x' FROM users u WHERE u.id = o.uid RETURNING u.ssn, o.id"), [
      "ssn =users.ssn <- users.ssn",
      "id =orders.id <- orders.id",
    ]);
    assert.deepEqual(briefs("DELETE FROM orders USING users WHERE users.id = orders.uid RETURNING users.email"), [
      "email =users.email <- users.email",
    ]);
  });

  test("INSERT … RETURNING and MERGE … RETURNING", () => {
    assert.deepEqual(briefs("INSERT INTO users (email) VALUES ('a@b.c') RETURNING lower(email)"), ["lower <- users.email"]);
    assert.deepEqual(briefs("MERGE INTO users t USING staged s ON t.id = s.id WHEN MATCHED THEN DELETE RETURNING s.ssn, merge_action()"), [
      "ssn =staged.ssn <- staged.ssn",
      "merge_action",
    ]);
  });
});

describe("outputs: statements other than SELECT", () => {
  test("COPY … TO STDOUT: a query, a column list, a whole table", () => {
    assert.deepEqual(briefs("COPY (SELECT upper(email) FROM users) TO STDOUT"), ["upper <- users.email"]);
    assert.deepEqual(briefs("COPY users (id, ssn) TO STDOUT"), ["id =users.id <- users.id", "ssn =users.ssn <- users.ssn"]);
    assert.deepEqual(briefs("COPY users TO STDOUT WITH (FORMAT csv)"), ["* *users <- users.*"]);
  });

  test("EXPLAIN returns its plan, even with ANALYZE; SHOW returns settings", () => {
    assert.deepEqual(briefs("EXPLAIN ANALYZE SELECT ssn FROM users"), ["QUERY PLAN"]);
    assert.deepEqual(briefs("SHOW search_path"), ["search_path"]);
    assert.deepEqual(briefs("SHOW ALL"), ["name", "setting", "description"]);
  });

  test("a SELECT with no target list returns rows without columns", () => {
    assert.deepEqual(outputs("SELECT FROM users"), []);
  });

  test("null where nothing comes back or the text cannot tell what does", () => {
    for (const sql of [
      "EXECUTE q(1)",
      "FETCH 10 FROM c",
      "CALL p()",
      "DELETE FROM users WHERE id = 1",
      "SELECT * INTO copy_of_users FROM users",
      "COPY users TO '/tmp/users'",
      "COPY users FROM STDIN",
      "CREATE TABLE t (a int)",
      "BEGIN",
    ]) {
      assert.equal(one(sql).outputs, null, sql);
    }
  });

  test("each statement of a text gets its own outputs", () => {
    const result = analyzer.analyze("SELECT ssn FROM users; SELECT total FROM orders");
    assert.deepEqual(
      result.statements.map((statement) => statement.outputs?.map(brief)),
      [["ssn =users.ssn <- users.ssn"], ["total =orders.total <- orders.total"]],
    );
  });
});

describe("copy_format", () => {
  test("defaults of each format", () => {
    assert.deepEqual(one("COPY users TO STDOUT").copy_format, {
      format: "text", delimiter: "\t", null_string: "\\N", quote: null, escape: null, header: false,
    });
    assert.deepEqual(one("COPY users TO STDOUT CSV HEADER").copy_format, {
      format: "csv", delimiter: ",", null_string: "", quote: '"', escape: '"', header: true,
    });
    assert.deepEqual(one("COPY (SELECT 1) TO STDOUT (FORMAT binary)").copy_format, {
      format: "binary", delimiter: "", null_string: "", quote: null, escape: null, header: false,
    });
  });

  test("options as written, old and new syntax", () => {
    const sql = "COPY users TO STDOUT WITH (FORMAT csv, DELIMITER ';', NULL 'x', QUOTE '''', ESCAPE '\\', HEADER false)";
    assert.deepEqual(one(sql).copy_format, {
      format: "csv", delimiter: ";", null_string: "x", quote: "'", escape: "\\", header: false,
    });
    assert.deepEqual(one("COPY users FROM STDIN WITH DELIMITER '|' NULL 'n'").copy_format, {
      format: "text", delimiter: "|", null_string: "n", quote: null, escape: null, header: false,
    });
  });

  test("null for a server file or program, and for other statements", () => {
    assert.equal(one("COPY users TO '/tmp/u'").copy_format, null);
    assert.equal(one("COPY users TO PROGRAM 'cat'").copy_format, null);
    assert.equal(one("SELECT 1").copy_format, null);
  });
});

describe("outputs: bounded work", () => {
  test("a wide but ordinary statement is traced", () => {
    const columns = Array.from({ length: 1500 }, (_, i) => `c${i}`);
    const traced = outputs(`SELECT ${columns.map((c) => `s.${c}`).join(", ")} FROM (SELECT ${columns.join(", ")} FROM t) s`);
    assert.equal(traced.length, 1500);
    assert.equal(brief(traced[1499] as SqlOutput), "c1499 =t.c1499 <- t.c1499");
  });

  test("an output computed from very many columns lists the whole rows of their tables", () => {
    const columns = Array.from({ length: 70 }, (_, i) => `u.c${i}`).join(", ");
    assert.deepEqual(briefs(`SELECT concat(${columns}, o.id) FROM users u, orders o`), ["concat <- orders.* users.*"]);
  });

  test("a long chain of CTEs, each reading the previous one twice, is traced", () => {
    const ctes = Array.from({ length: 300 }, (_, i) => {
      const previous = i === 0 ? "users" : `c${i - 1}`;
      return `c${i} AS (SELECT * FROM ${previous}, ${previous} AS again)`;
    });
    assert.deepEqual(briefs(`WITH ${ctes.join(", ")} SELECT * FROM c299`), ["* *? <- users.*"]);
  });

  test("a statement built to make tracing quadratic is refused, not traced for ever", () => {
    const inner = Array.from({ length: 2500 }, (_, i) => `xmlelement(name x, c${i})`).join(", ");
    const outer = Array.from({ length: 2500 }, (_, i) => `s.n${i}`).join(", ");
    const result = analyzer.analyze(`SELECT ${outer} FROM (SELECT ${inner} FROM t) s`);
    assert.match(result.parse_error ?? "", /too complex/);
    assert.deepEqual(result.statements, []);
  });
});
