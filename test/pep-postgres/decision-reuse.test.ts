// Decision reuse through the real stack: an allow the PDP grants reuse for stands for later
// statements of the same shape in the session, each still on the session record under it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sessionEventBodies } from '../support/session-records.ts';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { eventually } from '../support/eventually.ts';
import { auditBodyOf } from '@portcullis/pdp';

const SEED = `
  CREATE TABLE users (id int PRIMARY KEY, name text, email text);
  INSERT INTO users SELECT g, 'user-' || g, 'person' || g || '@example.com' FROM generate_series(1, 5) g;
`;

describe('decision reuse in the Postgres PEP', () => {
  let stack: PepStack;
  let reader: string;

  before(async () => {
    stack = await startPepStack({ seed: SEED });
    reader = await stack.token('agent-reuse', ['reader']);
  });
  after(async () => {
    await stack?.close();
  });

  it('asks once per shape and records every statement under that decision', async () => {
    const client = await stack.client(reader);
    const decisionsBefore = (await stack.pdp.auditEvents('decisions')).length;
    const answers: unknown[] = [];
    for (const id of [1, 2, 3, 4]) {
      const result = await client.query(`SELECT qty FROM orders WHERE id = ${id}`);
      answers.push(result.rows[0]?.qty);
    }
    await client.query('SELECT item FROM orders WHERE id = 5');
    await client.end();
    assert.deepEqual(answers, [1, 2, 3, 4], 'each statement ran with its own literal');

    const decisions = (await stack.pdp.auditEvents('decisions')).slice(decisionsBefore).map((event) => JSON.stringify(event));
    assert.equal(decisions.filter((event) => event.includes('SELECT qty FROM orders WHERE id =')).length, 1, 'one decision for the four texts of one shape');
    assert.equal(decisions.filter((event) => event.includes('SELECT item FROM orders')).length, 1, 'another shape is asked about');
    const decided = decisions.find((event) => event.includes('SELECT qty FROM orders WHERE id ='))!;
    const reuse = (JSON.parse(decided) as { unmapped: { portcullis: { reuse?: { scope: string; expires_at: string } } } }).unmapped.portcullis.reuse;
    assert.equal(reuse?.scope, 'statement-shape', 'the decision record says it may be reused');
    assert.ok(Number.isFinite(Date.parse(reuse?.expires_at ?? '')), 'and until when');

    const statements = await sessionStatements(stack, 'SELECT qty FROM orders WHERE id = 4');
    const qty = statements.filter((event) => event.includes('SELECT qty FROM orders WHERE id ='));
    assert.equal(qty.length, 4, 'every statement is on the record');
    const decisionIds = new Set(qty.map((event) => /"decision_id":"([^"]+)"/.exec(event)?.[1]));
    assert.equal(decisionIds.size, 1, 'all under the one decision');
    assert.ok(decided.includes([...decisionIds][0]!));
    assert.equal(qty.filter((event) => event.includes('"decision_reused":true')).length, 3, 'the three later ones marked as reused');
    assert.ok(qty.every((event) => event.includes('"decision_verified":true')), 'the original decision id still verifies for every reuse');
  });

  it('still masks every result under a reused decision', async () => {
    const client = await stack.client(reader);
    const emails: string[] = [];
    for (const id of [1, 2, 3]) {
      const result = await client.query(`SELECT email, upper(email) AS shout FROM users WHERE id = ${id}`);
      emails.push(result.rows[0].email, result.rows[0].shout);
    }
    await client.end();
    assert.equal(emails.length, 6);
    for (const value of emails) assert.doesNotMatch(value, /person\d@example/i, `clear value leaked: ${value}`);
  });

  it('asks about every utility statement, whatever its shape', async () => {
    const client = await stack.client(reader);
    const before = (await stack.pdp.auditEvents('decisions')).length;
    await client.query("SET application_name = 'reuse-a'");
    await client.query("SET application_name = 'reuse-b'");
    await client.end();
    const decisions = (await stack.pdp.auditEvents('decisions')).slice(before).filter((event) => JSON.stringify(event).includes('SET application_name'));
    assert.equal(decisions.length, 2);
  });

  it('lets no text ride on a reused allow that is more than a change of literal values', async () => {
    const client = await stack.client(reader);
    client.on('error', () => {});
    await client.query('SELECT qty FROM orders WHERE id = 1');
    await client.query("SELECT qty FROM orders WHERE item = 'item-1'");
    const attempts = [
      // Same shape as the allowed text: for PostgreSQL too, all of it is one string literal.
      "SELECT qty FROM orders WHERE item = 'x'' ; DELETE FROM orders; --'",
      'SELECT qty FROM orders WHERE id = 1; DELETE FROM orders',
      'SELECT qty FROM orders WHERE id = 1 /* */; DELETE FROM orders',
      "SELECT qty FROM orders WHERE id = 1 OR pg_sleep(0) IS NULL",
      "SELECT qty FROM orders WHERE id = E'1\\' ; DELETE FROM orders; --'",
      "SELECT qty FROM orders WHERE id = '1'' ; DELETE FROM orders; --'",
      'SELECT qty FROM orders WHERE id = $$1$$; DELETE FROM orders',
      'SELECT qty FROM orders WHERE id = 1 RETURNING 1',
    ];
    for (const text of attempts) await client.query(text).catch(() => undefined);
    await client.end();
    const owner = await stack.client(await stack.token('agent-count', ['reader']));
    const { rows } = await owner.query('SELECT count(*)::int AS n FROM orders');
    await owner.end();
    assert.equal(rows[0].n, 20, 'no row was deleted');
    const refused = (await stack.pdp.auditEvents('decisions')).map((event) => JSON.stringify(auditBodyOf(event))).filter((event) => event.includes('DELETE FROM orders') && event.includes('"effect":"deny"'));
    assert.ok(refused.length >= 3, `the texts with a DELETE were decided (and refused) on their own: ${refused.length}`);
  });

  it('does not carry a decision from one session to another', async () => {
    const before = (await stack.pdp.auditEvents('decisions')).length;
    for (let i = 0; i < 2; i++) {
      const client = await stack.client(reader);
      await client.query(`SELECT qty FROM orders WHERE id = ${10 + i}`);
      await client.end();
    }
    const decisions = (await stack.pdp.auditEvents('decisions')).slice(before).filter((event) => JSON.stringify(event).includes('SELECT qty FROM orders WHERE id ='));
    assert.equal(decisions.length, 2);
  });
});

/** The statements (as JSON text, one each even when a run of them is one record) of the session that ran `marker`, once that session has ended. */
async function sessionStatements(stack: PepStack, marker: string): Promise<string[]> {
  return eventually(`an ended session ran ${marker}`, async () => {
    const events = sessionEventBodies(await stack.pdp.auditEvents('sessions')).map((event) => JSON.stringify(event));
    const session = events.find((event) => event.includes(marker) && event.includes('session.statement'));
    const id = session && /"session":\{"id":"([^"]+)"/.exec(session)?.[1];
    if (!id || !events.some((event) => event.includes(`"id":"${id}"`) && event.includes('session.end'))) return undefined;
    return events.filter((event) => event.includes(`"id":"${id}"`) && event.includes('session.statement'));
  }, { intervalMs: 100 });
}
