import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createSqlAnalyzer, type SqlAnalyzer } from '../src/enrichment/sql-analyzer.ts';
import { oneStatement } from './support/one-statement.ts';

let analyzer: SqlAnalyzer;

before(async () => {
  analyzer = await createSqlAnalyzer();
});

/** is_value of each output of a one-statement text. */
function values(sql: string): boolean[] {
  return (oneStatement((text) => analyzer.analyze(text), sql).outputs ?? []).map((output) => output.is_value);
}

describe('outputs: is_value tells the column value itself from what is computed from it', () => {
  test('the value as is: direct, aliased, qualified, text casts, COLLATE, case folding, nested', () => {
    assert.deepEqual(
      values(`SELECT email, u.email AS e, public.users.email, email::text, CAST(email AS varchar), email::pg_catalog.text,
        email COLLATE "C", upper(email), lower(email), initcap(email), pg_catalog.lower(email), lower(upper(email::text) COLLATE "C") FROM users u`),
      Array(12).fill(true),
    );
  });

  test('through subqueries, CTEs, set operations whose arms agree, RETURNING and COPY', () => {
    assert.deepEqual(values('SELECT s.e, s.r FROM (SELECT email AS e, reverse(email) AS r FROM users) s'), [true, false]);
    assert.deepEqual(values('WITH c AS (SELECT upper(email) AS e, email || \'\' AS g FROM users) SELECT e, lower(e), g, lower(g) FROM c'), [true, true, false, false]);
    assert.deepEqual(values('SELECT email FROM users UNION SELECT email FROM customers'), [true]);
    assert.deepEqual(values('SELECT email FROM users UNION SELECT reverse(email) FROM users'), [false]);
    assert.deepEqual(values('UPDATE users SET name = name WHERE id = 1 RETURNING email, reverse(email)'), [true, false]);
    assert.deepEqual(values('COPY users (email, ssn) TO STDOUT'), [true, true]);
    assert.deepEqual(values('COPY (SELECT split_part(email, \'@\', 1) FROM users) TO STDOUT'), [false]);
  });

  test('anything computed is not the value', () => {
    const computed = [
      'reverse(email)', "split_part(email, '@', 1)", 'substr(email, 1, 5)', "overlay(email placing 'x' from 1 for 1)",
      "translate(email, 'a', 'b')", "regexp_replace(email, 'a', 'b')", "email || ''", "concat(email, '')", "format('%s', email)",
      "json_build_object('e', email)", 'to_jsonb(email)', 'left(email, 3)', 'email::varchar(5)', 'email::char(10)', 'email::bytea',
      'CASE WHEN true THEN email END', "coalesce(email, '')", 'public.lower(email)', '"Lower"(email)', 'lower(email) OVER ()',
      "lower(email, 'x')", 'max(email)', 'array_agg(email)', 'u', '(SELECT email FROM users LIMIT 1)', "email::text || ''",
    ];
    for (const expression of computed) assert.deepEqual(values(`SELECT ${expression} FROM users u`), [false], expression);
  });

  test('a name that may be several relations\' column is a value only if each reading is', () => {
    assert.deepEqual(values('SELECT email FROM users, customers'), [true]);
    assert.deepEqual(values('SELECT e FROM users, (SELECT reverse(email) AS e FROM customers) c'), [false]);
  });
});
