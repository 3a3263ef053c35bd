import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { startPepStack, type PepStack } from './pep-stack.ts';

describe('node-postgres through the Postgres PEP', () => {
  let stack: PepStack;
  let client: pg.Client;

  before(async () => {
    stack = await startPepStack({
      seed: "CREATE TABLE users (id int PRIMARY KEY, name text, email text); INSERT INTO users VALUES (1, 'Ada', 'ada.lovelace@example.com');",
    });
    client = await stack.client(await stack.token('agent-app', ['writer']));
  });
  after(() => stack?.close());

  it('runs a simple query', async () => {
    const result = await client.query('SELECT count(*)::int AS n FROM orders');
    assert.deepEqual(result.rows, [{ n: 20 }]);
  });

  it('runs an extended-protocol query with parameters', async () => {
    const result = await client.query('SELECT item, qty FROM orders WHERE id = $1 OR item = $2 ORDER BY id', [3, 'item-5']);
    assert.deepEqual(result.rows, [{ item: 'item-3', qty: 3 }, { item: 'item-5', qty: 5 }]);
  });

  it('prepares a named statement once and executes it again by name', async () => {
    const text = 'SELECT item FROM orders WHERE id = $1 /* named-statement */';
    const decisionsBefore = await decisionsAbout(stack, 'named-statement');
    const first = await client.query({ name: 'order-by-id', text, values: [1] });
    const second = await client.query({ name: 'order-by-id', text, values: [2] });
    assert.deepEqual([first.rows, second.rows], [[{ item: 'item-1' }], [{ item: 'item-2' }]]);
    assert.equal((await decisionsAbout(stack, 'named-statement')) - decisionsBefore, 1, 'decided at Parse, once');
  });

  it('answers queued queries in order', async () => {
    const queries = [1, 2, 3, 4, 5].map((id) => client.query('SELECT qty FROM orders WHERE id = $1', [id]));
    const results = await Promise.all(queries);
    assert.deepEqual(results.map((result) => result.rows[0].qty), [1, 2, 3, 4, 5]);
  });

  it('refuses a denied statement in the extended protocol and stays usable', async () => {
    await assert.rejects(client.query('DELETE FROM orders', []), (error: pg.DatabaseError) => {
      assert.equal(error.code, '42501');
      assert.match(error.message, /sql-delete-without-where/);
      return true;
    });
    const after = await client.query('SELECT count(*)::int AS n FROM orders');
    assert.deepEqual(after.rows, [{ n: 20 }]);
  });

  it('leaves a transaction failed after a deny, and rolls it back like an error would', async () => {
    await client.query('BEGIN');
    await client.query("INSERT INTO orders (item, qty) VALUES ($1, 1)", ['pg-tx']);
    await assert.rejects(client.query('DELETE FROM orders', []), { code: '42501' });
    await assert.rejects(client.query('SELECT 1'), { code: '25P02' });
    const end = await client.query('COMMIT');
    assert.equal(end.command, 'ROLLBACK');
    const rows = await client.query('SELECT count(*)::int AS n FROM orders WHERE item = $1', ['pg-tx']);
    assert.deepEqual(rows.rows, [{ n: 0 }]);
  });

  it('applies the decision\'s mask obligations to the rows, in both protocols', async () => {
    const simple = await client.query('SELECT id, name, email FROM users');
    const extended = await client.query('SELECT email AS contact FROM users WHERE id = $1', [1]);
    assert.equal(simple.rows[0].name, 'Ada');
    for (const email of [simple.rows[0].email, extended.rows[0].contact]) {
      assert.equal(typeof email, 'string');
      assert.notEqual(email, 'ada.lovelace@example.com', 'users.email is masked (starter policy: partial)');
    }
  });

  it('passes the server errors of allowed statements through unchanged', async () => {
    await assert.rejects(client.query('SELECT 1 / $1::int', [0]), { code: '22012' });
    await assert.rejects(client.query('SELECT * FROM no_such_table'), { code: '42P01' });
    const after = await client.query('SELECT 1 AS one');
    assert.deepEqual(after.rows, [{ one: 1 }]);
  });
});

async function decisionsAbout(stack: PepStack, marker: string): Promise<number> {
  return (await stack.pdp.auditEvents('decisions')).filter((event) => JSON.stringify(event).includes(marker)).length;
}
