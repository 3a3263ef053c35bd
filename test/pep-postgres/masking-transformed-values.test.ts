/**
 * `partial` keeps part of a value (an email's domain, a card's last four digits): only safe on
 * the value itself. Through the real PDP, PEP and PostgreSQL, a reader gets partial only where
 * the output IS the column's value (directly, through text casts, COLLATE, case folding, through
 * subqueries, CTEs and views); anything computed from it is hidden whole.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPepStack, type PepStack } from './pep-stack.ts';

const EMAIL = 'seed.alice.quiet@example.org';
const PHONE = '+1 (415) 555-0173';
const CARD = '4000 1234 5678 9011';

const SEED = `
  CREATE TABLE users (id int PRIMARY KEY, name text, email text, ssn text, phone text);
  INSERT INTO users VALUES (1, 'Alice Seedling', '${EMAIL}', '372814650', '${PHONE}');
  CREATE TABLE customers (id int PRIMARY KEY, holder text, card_number text);
  INSERT INTO customers VALUES (1, 'Acme', '${CARD}');
  CREATE VIEW users_transformed AS
    SELECT id, email, upper(email) AS shouted, reverse(email) AS backwards, split_part(email, '@', 1) AS local_part,
           substr(phone, 1, 9) AS phone_head, email || '' AS glued
    FROM users;
  CREATE VIEW users_transformed_again AS SELECT email AS contact, backwards, local_part FROM users_transformed;
`;

const REDACTED = '****';
const EMAIL_PARTIAL = '****@example.org';

describe('partial applies only to a column value itself (analytics-db, a reader agent)', () => {
  let stack: PepStack;
  let reader: string;

  before(async () => {
    stack = await startPepStack({ resource: 'analytics-db', seed: SEED });
    reader = await stack.token('agent-transform-reader', ['reader']);
  });
  after(() => stack?.close());

  const one = async (sql: string): Promise<Record<string, unknown>> => {
    const client = await stack.client(reader);
    try {
      const result = await client.query(sql);
      assert.equal(result.rows.length, 1, sql);
      return result.rows[0] as Record<string, unknown>;
    } finally {
      await client.end();
    }
  };

  it('keeps partial for the value as is: direct, aliased, cast to text, COLLATE, upper/lower/initcap, through a subquery and a CTE', async () => {
    const row = await one(`SELECT email, email AS contact, email::text AS t, CAST(email AS varchar) AS v, email COLLATE "C" AS c,
      upper(email) AS u, lower(email) AS l, initcap(email) AS i, lower(upper(email::text)) AS nested,
      (SELECT s.e FROM (SELECT email AS e FROM users) s) AS sub FROM users`);
    assert.deepEqual(row, {
      email: EMAIL_PARTIAL, contact: EMAIL_PARTIAL, t: EMAIL_PARTIAL, v: EMAIL_PARTIAL, c: EMAIL_PARTIAL,
      u: '****@EXAMPLE.ORG', l: EMAIL_PARTIAL, i: '****@Example.Org', nested: EMAIL_PARTIAL, sub: REDACTED,
    });
    const cte = await one('WITH c AS (SELECT email AS e, phone AS p FROM users) SELECT e, p FROM c');
    assert.deepEqual(cte, { e: EMAIL_PARTIAL, p: '+* (***) ***-0173' });
  });

  it('hides whole every value computed from a partial column', async () => {
    const row = await one(`SELECT reverse(email) AS a, split_part(email, '@', 1) AS b, substr(email, 1, 12) AS c,
      overlay(email placing 'x' from 1 for 1) AS d, translate(email, 'ae', 'ea') AS e, regexp_replace(email, '@.*', '') AS f,
      email || '' AS g, concat(email, '') AS h, format('%s', email) AS i, left(email, 16) AS j, right(email, 20) AS k,
      replace(email, '@', ' at ') AS l, json_build_object('e', email)::text AS m, to_jsonb(email)::text AS n,
      email::varchar(16) AS o, CASE WHEN true THEN email END AS p, coalesce(email, '') AS q, public_or_not AS r
      FROM users, LATERAL (SELECT reverse(email) AS public_or_not) x`);
    for (const [name, value] of Object.entries(row)) assert.equal(value, REDACTED, `${name}: ${String(value)}`);
  });

  it('hides whole what is computed from a phone or a card (the digits kept would be the wrong ones)', async () => {
    const phone = await one("SELECT reverse(phone) AS a, substr(phone, 1, 12) AS b, split_part(phone, ' ', 3) AS c, phone AS d FROM users");
    assert.deepEqual(phone, { a: REDACTED, b: REDACTED, c: REDACTED, d: '+* (***) ***-0173' });
    const card = await one("SELECT reverse(card_number) AS a, substr(card_number, 1, 14) AS b, replace(card_number, ' ', '') AS c, card_number AS d FROM customers");
    assert.deepEqual(card, { a: REDACTED, b: REDACTED, c: REDACTED, d: '**** **** **** 9011' });
  });

  it('views: a column computed from a masked column is hidden whole, the column itself keeps partial, through a view over the view', async () => {
    const row = await one('SELECT * FROM users_transformed');
    assert.deepEqual(row, { id: 1, email: EMAIL_PARTIAL, shouted: '****@EXAMPLE.ORG', backwards: REDACTED, local_part: REDACTED, phone_head: REDACTED, glued: REDACTED });
    const again = await one('SELECT * FROM users_transformed_again');
    assert.deepEqual(again, { contact: EMAIL_PARTIAL, backwards: REDACTED, local_part: REDACTED });
    const over = await one('SELECT upper(email) AS u, reverse(email) AS r FROM users_transformed');
    assert.deepEqual(over, { u: '****@EXAMPLE.ORG', r: REDACTED });
  });
});
