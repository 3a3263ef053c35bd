// What a real client's own test suite expects of a server, with PostgreSQL itself as the oracle:
// odd openings before the start-up packet close silently, and text the parser rejects is answered
// with 42601, PostgreSQL's message and the error position — while still never reaching the server.
import assert from 'node:assert/strict';
import { after, before, describe as suite, it } from 'node:test';
import pg from 'pg';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { describe, msg, RawClient } from './raw-client.ts';
import { decodeNoticeFields } from '@portcullis/pep-postgres/testing';

const SSL_REQUEST = new MessageBuilder().int32(80877103).build();
const GSSENC_REQUEST = new MessageBuilder().int32(80877104).build();

/** Everything a server sends back to `bytes` until it closes: single-byte answers and messages. */
async function transcript(port: number, steps: Buffer[]): Promise<string[]> {
  const client = await RawClient.connect(port);
  const seen: string[] = [];
  for (const bytes of steps) {
    const isNegotiation = bytes.length === 8 && (bytes.readInt32BE(4) === 80877103 || bytes.readInt32BE(4) === 80877104);
    if (isNegotiation) {
      const answer = new Promise<Buffer>((resolve) => client.socket.once('data', resolve));
      client.send(bytes);
      seen.push(`byte ${(await answer).toString()}`);
      continue;
    }
    client.send(bytes);
  }
  client.socket.end();
  for (const message of await client.closed()) seen.push(describe(message));
  return seen;
}

suite('the Postgres PEP answers as PostgreSQL does', () => {
  let stack: PepStack;
  let token: string;
  let direct: pg.Client;

  before(async () => {
    stack = await startPepStack({ resource: 'orders-db' });
    token = await stack.token('agent-postgres-like', ['reader', 'writer']);
    direct = new pg.Client({ host: '127.0.0.1', port: stack.pg.port, user: 'postgres', password: stack.pg.superuserPassword, database: 'postgres' });
    await direct.connect();
    await stack.pg.sql(`CREATE TABLE syntax_probe (id int); ALTER TABLE syntax_probe OWNER TO portcullis_app`);
  });
  after(async () => {
    await direct?.end();
    await stack?.close();
  });

  const openings: Array<[string, Buffer[]]> = [
    ['Terminate before the start-up packet', [msg.terminate()]],
    ['nothing at all', []],
    ['three bytes, then the end', [Buffer.from([0, 0, 0])]],
    ['a length below the smallest packet', [Buffer.from([0, 0, 0, 4])]],
    ['an HTTP request', [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]],
    ['a CancelRequest for no session', [new MessageBuilder().int32(80877102).int32(12345).int32(67890).build()]],
    ['a start-up packet longer than PostgreSQL reads', [Buffer.from([0, 1, 0, 0, 0, 3, 0, 0])]],
  ];
  for (const [name, steps] of openings) {
    it(`closes without a word, as PostgreSQL does, on ${name}`, async () => {
      const oracle = await transcript(stack.pg.port, steps);
      const pep = await transcript(stack.port, steps);
      assert.deepEqual(pep, oracle, 'the PEP answers as PostgreSQL answers');
      assert.equal(pep.filter((line) => line.startsWith('E')).length, 0, 'no ErrorResponse');
    });
  }

  // PostgreSQL may offer GSS encryption or TLS; the PEP (here without a certificate) offers neither.
  for (const [name, request] of [['SSLRequest', SSL_REQUEST], ['GSSENCRequest', GSSENC_REQUEST]] as const) {
    it(`answers ${name} then Terminate with N and a silent close`, async () => {
      assert.deepEqual(await transcript(stack.port, [request, msg.terminate()]), ['byte N']);
    });
  }

  it('lets node-postgres end() a client whose connect() has not finished, without an error', async () => {
    for (const port of [stack.pg.port, stack.port]) {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'agent', password: token, database: 'analytics' });
      const errors: Error[] = [];
      client.on('error', (error) => errors.push(error));
      const connecting = client.connect().then(
        () => 'connected',
        (error: Error) => error,
      );
      const ending = client.end().then(() => 'ended');
      // Bounded: what matters is what the client was told, not how long it takes to notice the close.
      const outcome = await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, 3_000, 'still connecting'))]);
      await Promise.race([ending, new Promise((resolve) => setTimeout(resolve, 3_000))]);
      assert.equal(errors.length, 0, `no error event on port ${port}: ${errors.map(String).join('; ')}`);
      assert.ok(!(outcome instanceof Error) || !/08P01|start-up packet/.test(outcome.message), `no protocol error on port ${port}: ${String(outcome)}`);
    }
  });

  const unparseable = [
    'SELEC 1',
    'SELECT 1 FROM',
    "SELECT 'abc",
    'select 1; selct 2',
    "SELECT 'é' FROM WHERE",
    'SELECT "unterminated',
    'UPDATE syntax_probe SET WHERE id = 1',
    'DELETE FROM syntax_probe WHERE id = = 1',
    'INSERT INTO syntax_probe VALUES (1',
  ];
  for (const sql of unparseable) {
    it(`answers ${JSON.stringify(sql)} with PostgreSQL's syntax error and position, simple and extended`, async () => {
      const expected = await direct.query(sql).catch((error: pg.DatabaseError) => error);
      assert.ok(expected instanceof Error, 'PostgreSQL rejects it');
      const client = await stack.client(token);
      try {
        const runs = [() => client.query(sql), () => client.query({ text: sql, queryMode: 'extended' } as pg.QueryConfig), () => client.query({ name: `probe-${sql.length}`, text: sql })];
        for (const run of runs) {
          const error = await run().catch((failure: pg.DatabaseError) => failure);
          assert.ok(error instanceof Error, 'the PEP refuses it');
          const failure = error as pg.DatabaseError;
          assert.equal(failure.code, '42601');
          assert.equal(failure.message, expected.message);
          assert.equal(failure.position, (expected as pg.DatabaseError).position);
        }
        assert.deepEqual((await client.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'the session goes on');
      } finally {
        await client.end();
      }
    });
  }

  it('keeps the reason for text refused before parsing (too long, NUL): 42501, not a syntax error', async () => {
    const client = await RawClient.login(stack.port, token);
    client.send(msg.query(`SELECT '${'x'.repeat(300 * 1024)}'`));
    const messages = await client.untilReady();
    assert.deepEqual(messages.map(describe), ['E 42501', 'Z I']);
    assert.match(decodeNoticeFields(messages[0]!.body).get('D') ?? '', /sql-parse-error/);
    client.destroy();
  });

  it('does not let a syntax error reach the server: an unparseable Parse leaves nothing prepared', async () => {
    const client = await RawClient.login(stack.port, token);
    client.send([msg.parse('bad', 'SELEC 1'), msg.sync(), msg.parse('', 'SELECT 1'), msg.bind('', ''), msg.execute(''), msg.sync()]);
    const first = await client.untilReady();
    assert.deepEqual(first.map(describe), ['E 42601', 'Z I']);
    assert.equal(decodeNoticeFields(first[0]!.body).get('P'), '1');
    assert.deepEqual((await client.untilReady()).map(describe), ['1', '2', 'D', 'C SELECT 1', 'Z I']);
    client.destroy();
  });
});
