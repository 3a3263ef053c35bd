import assert from 'node:assert/strict';
import { after, before, describe as suite, it } from 'node:test';
import { sessionStatementBodies } from '../support/session-records.ts';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { describe, errorText, msg, RawClient } from './raw-client.ts';
import { eventually } from '../support/eventually.ts';

suite('the extended protocol through the Postgres PEP, byte by byte', () => {
  let stack: PepStack;
  let token: string;

  before(async () => {
    stack = await startPepStack();
    token = await stack.token('agent-raw', ['writer']);
  });
  after(() => stack?.close());

  it('refuses a denied Parse in the middle of a pipeline: error, skip to Sync, the pipeline rolled back', async () => {
    const client = await RawClient.login(stack.port, token);
    client.send([
      msg.parse('', "INSERT INTO orders (item, qty) VALUES ('pipelined', 1)"),
      msg.bind('', ''),
      msg.execute(''),
      msg.parse('', 'DELETE FROM orders'),
      msg.bind('', ''),
      msg.execute(''),
      msg.sync(),
      msg.query('SELECT 1'),
    ]);
    const first = await client.untilReady();
    assert.deepEqual(first.map(describe), ['1', '2', 'C INSERT 0 1', 'E 42501', 'Z I']);
    assert.match(errorText(first[3]!), /sql-delete-without-where/);
    const second = await client.untilReady();
    assert.deepEqual(second.map(describe), ['T', 'D', 'C SELECT 1', 'Z I']);
    assert.equal((await stack.pg.sql("SELECT count(*) FROM orders WHERE item = 'pipelined'")).trim(), '0', 'the implicit transaction was rolled back');
    client.destroy();
  });

  it('answers a denied Parse inside a transaction block with the failed status E', async () => {
    const client = await RawClient.login(stack.port, token);
    client.send(msg.query('BEGIN'));
    assert.deepEqual((await client.untilReady()).map(describe), ['C BEGIN', 'Z T']);
    client.send([msg.parse('', 'DELETE FROM orders'), msg.bind('', ''), msg.execute(''), msg.sync()]);
    assert.deepEqual((await client.untilReady()).map(describe), ['E 42501', 'Z E']);
    client.send(msg.query('SELECT 1'));
    assert.deepEqual((await client.untilReady()).map(describe), ['E 25P02', 'Z E']);
    client.send(msg.query('ROLLBACK'));
    assert.deepEqual((await client.untilReady()).map(describe), ['C ROLLBACK', 'Z I']);
    client.destroy();
  });

  it('binds a statement parsed before an earlier Sync once the server confirmed it', async () => {
    const client = await RawClient.login(stack.port, token);
    client.send([
      msg.parse('by-id', 'SELECT item FROM orders WHERE id = $1'),
      msg.sync(),
      msg.bind('', 'by-id', ['4']),
      msg.execute(''),
      msg.sync(),
    ]);
    assert.deepEqual((await client.untilReady()).map(describe), ['1', 'Z I']);
    assert.deepEqual((await client.untilReady()).map(describe), ['2', 'D', 'C SELECT 1', 'Z I']);
    client.destroy();
  });

  it('keeps what a statement name runs when a second Parse of that name fails on the server', async () => {
    const client = await RawClient.login(stack.port, token);
    client.send([msg.parse('kept', "SELECT 'first-text' AS which"), msg.sync()]);
    assert.deepEqual((await client.untilReady()).map(describe), ['1', 'Z I']);
    // The server refuses the duplicate name; the PEP must not believe "kept" now runs the new text.
    client.send([msg.parse('kept', "SELECT 'second-text' AS which"), msg.sync()]);
    assert.deepEqual((await client.untilReady()).map(describe), ['E 42P05', 'Z I']);
    client.send([msg.bind('', 'kept'), msg.execute(''), msg.sync()]);
    assert.deepEqual((await client.untilReady()).map(describe), ['2', 'D', 'C SELECT 1', 'Z I']);
    client.send(msg.terminate());
    await client.closed();
    const recorded = await statementTexts(stack, 'first-text', 'second-text');
    assert.ok(recorded.includes("SELECT 'first-text' AS which"), 'the Execute is recorded under the text that ran');
    assert.ok(!recorded.includes("SELECT 'second-text' AS which"));
  });

  it('refuses to bind a statement the PEP did not see parsed (SQL PREPARE)', async () => {
    const client = await RawClient.login(stack.port, token);
    client.send(msg.query("PREPARE sql_prepared AS SELECT 'via-sql'"));
    assert.deepEqual((await client.untilReady()).map(describe), ['C PREPARE', 'Z I']);
    client.send([msg.bind('', 'sql_prepared'), msg.execute(''), msg.sync()]);
    const answer = await client.untilReady();
    assert.deepEqual(answer.map(describe), ['E 26000', 'Z I']);
    assert.match(errorText(answer[0]!), /not known to this PEP/);
    client.destroy();
  });

  it('refuses a fast-path function call', async () => {
    const client = await RawClient.login(stack.port, token);
    client.send(msg.functionCall(1598));
    const answer = await client.untilReady();
    assert.deepEqual(answer.map(describe), ['E 42501', 'Z I']);
    assert.match(errorText(answer[0]!), /fast-path function calls are not allowed/);
    client.destroy();
  });

  it('answers an empty query without a decision', async () => {
    const client = await RawClient.login(stack.port, token);
    client.send(msg.query('  '));
    assert.deepEqual((await client.untilReady()).map(describe), ['I', 'Z I']);
    client.destroy();
  });

  it('returns rows of a suspended portal and the rest on the next Execute', async () => {
    const client = await RawClient.login(stack.port, token);
    client.send([msg.query('BEGIN')]);
    await client.untilReady();
    client.send([msg.parse('', 'SELECT id FROM orders ORDER BY id LIMIT 3'), msg.bind('p', ''), msg.execute('p', 2), msg.execute('p', 0), msg.sync()]);
    assert.deepEqual((await client.untilReady()).map(describe), ['1', '2', 'D', 'D', 's', 'D', 'C SELECT 1', 'Z T']);
    client.send(msg.query('COMMIT'));
    await client.untilReady();
    client.destroy();
  });
});

async function statementTexts(stack: PepStack, ...markers: string[]): Promise<string[]> {
  return eventually(`a statement naming ${markers.join(' or ')} is on the session record`, async () => {
    // One text per statement, also when a run of them is one record.
    const texts = sessionStatementBodies(await stack.pdp.auditEvents('sessions')).map((event) => event.statement.text);
    return texts.some((text) => markers.some((marker) => text.includes(marker))) && texts;
  }, { intervalMs: 100 });
}
