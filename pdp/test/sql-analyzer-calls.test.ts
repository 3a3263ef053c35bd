import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createSqlAnalyzer, type SqlAnalyzer, type SqlCall, type SqlStatementFacts } from '../src/enrichment/sql-analyzer.ts';
import { oneStatement } from './support/one-statement.ts';

let analyzer: SqlAnalyzer;

before(async () => {
  analyzer = await createSqlAnalyzer();
});

function one(sql: string): SqlStatementFacts {
  return oneStatement((text) => analyzer.analyze(text), sql);
}

function callNames(sql: string, kind: SqlCall['kind'] = 'function'): string[] {
  return one(sql)
    .calls.filter((call) => call.kind === kind)
    .map((call) => (call.schema === null ? call.name : `${call.schema}.${call.name}`));
}

describe('calls: every routine a statement invokes', () => {
  test('functions wherever they sit: targets, WHERE, FROM, ROWS FROM, LATERAL, ORDER/GROUP BY, windows, FILTER, WITHIN GROUP', () => {
    assert.deepEqual(callNames('SELECT archive_order(19)'), ['archive_order']);
    assert.deepEqual(callNames('SELECT id FROM orders WHERE f1(id) ORDER BY f2(id)'), ['f1', 'f2']);
    assert.deepEqual(callNames('SELECT * FROM f1() AS x, ROWS FROM (f2(), f3()) AS y, LATERAL f4(x.a) AS z'), ['f1', 'f2', 'f3', 'f4']);
    assert.deepEqual(callNames('SELECT count(*) FILTER (WHERE f1(id)) OVER (PARTITION BY f2(id)) FROM orders GROUP BY f3(id)'), ['count', 'f1', 'f2', 'f3']);
    assert.deepEqual(callNames('SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY f1(total)) FROM orders'), ['f1', 'percentile_cont']);
    assert.deepEqual(callNames('WITH a AS (SELECT f1()) SELECT (SELECT f2()), EXISTS (SELECT f3()) FROM a'), ['f1', 'f2', 'f3']);
    assert.deepEqual(callNames('COPY (SELECT f1(id) FROM orders) TO STDOUT'), ['f1']);
    assert.deepEqual(callNames('EXPLAIN ANALYZE SELECT f1()'), ['f1']);
    assert.deepEqual(callNames('INSERT INTO orders (id) VALUES (f1()) RETURNING f2(id)'), ['f1', 'f2']);
    assert.deepEqual(callNames('DECLARE c CURSOR FOR SELECT f1()'), ['f1']);
    assert.deepEqual(callNames('PREPARE p AS SELECT f1($1)'), ['f1']);
  });

  test('schema and exact case are kept: public.lower and "Lower" are not lower', () => {
    assert.deepEqual(callNames('SELECT public.lower(email), "Lower"(email), pg_catalog.upper(email) FROM users'), ['Lower', 'pg_catalog.upper', 'public.lower']);
    // SQL-syntax functions come out as pg_catalog calls.
    assert.deepEqual(callNames("SELECT substring(email from 2), extract(year from now()), trim(both ' ' from email) FROM users"), [
      'now',
      'pg_catalog.btrim',
      'pg_catalog.extract',
      'pg_catalog.substring',
    ]);
  });

  test('operators, including ANY/ALL, IN, LIKE, sublinks, ORDER BY USING and OPERATOR(schema.op)', () => {
    assert.deepEqual(callNames('SELECT a = b, a ~~ b, a = ANY (ARRAY[1]), a IN (1, 2), a < ALL (SELECT 1), 1 OPERATOR(public.+) 2 FROM t ORDER BY a USING ~<~', 'operator'), [
      '<',
      '=',
      '~<~',
      '~~',
      'public.+',
    ]);
    // BETWEEN's name is a keyword, not an operator.
    assert.deepEqual(callNames('SELECT 1 FROM t WHERE a BETWEEN 1 AND 2', 'operator'), []);
  });

  test('casts and typed literals name their target type', () => {
    assert.deepEqual(callNames("SELECT a::int, CAST(b AS mood), date '2020-01-01', c::public.text FROM t", 'cast'), ['date', 'mood', 'pg_catalog.int4', 'public.text']);
  });

  test('types given to values anywhere: column definition lists, XMLTABLE, SQL/JSON RETURNING, PREPARE parameters', () => {
    // A domain's CHECK runs whenever a value takes the type, not only under `::`.
    assert.deepEqual(callNames(`SELECT * FROM json_to_record('{"a": 1}') AS x(a d1), ROWS FROM (f() AS (b d2))`, 'cast'), ['d1', 'd2']);
    assert.deepEqual(callNames("SELECT * FROM XMLTABLE('/r' PASSING '<r/>' COLUMNS a d1 PATH 'a')", 'cast'), ['d1']);
    assert.deepEqual(callNames("SELECT JSON_OBJECT('a' : 1 RETURNING d1), json_arrayagg(x RETURNING d2), xmlserialize(content x AS d3) FROM t", 'cast'), ['d1', 'd2', 'd3']);
    assert.deepEqual(callNames('PREPARE p(d1) AS SELECT $1', 'cast'), ['d1']);
  });

  test('TABLESAMPLE methods', () => {
    assert.deepEqual(callNames('SELECT * FROM orders TABLESAMPLE system_rows(10)', 'tablesample'), ['system_rows']);
  });
});

describe('locking clauses', () => {
  for (const sql of [
    'SELECT * FROM orders FOR UPDATE',
    'SELECT * FROM orders FOR NO KEY UPDATE SKIP LOCKED',
    'SELECT * FROM orders FOR SHARE OF orders NOWAIT',
    'SELECT * FROM orders FOR KEY SHARE',
    'SELECT * FROM (SELECT * FROM orders FOR UPDATE) s',
    'WITH l AS (SELECT id FROM orders FOR UPDATE) SELECT * FROM l',
    'SELECT (SELECT id FROM orders LIMIT 1 FOR UPDATE)',
    'DELETE FROM t WHERE id IN (SELECT id FROM orders FOR UPDATE)',
    'DECLARE c CURSOR FOR SELECT * FROM orders FOR UPDATE',
  ]) {
    test(`${sql} locks`, () => assert.equal(one(sql).locking, true));
  }
  test('a plain SELECT does not', () => assert.equal(one('SELECT * FROM orders').locking, false));
});
