// SQL cursors through the Postgres PEP, against a real PostgreSQL, the real PDP with the starter
// policy, psql and node-postgres: DECLARE is decided as its query, FETCH's rows are masked by the
// provenance of the DECLARE the session saw, and strictly when it saw none.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { ALICE, BOB, forbiddenFragments, seedSql } from './bypass-corpus-fixtures.ts';
import { sessionStatementBodies } from '../support/session-records.ts';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { describe as describeMessage, msg, RawClient } from './raw-client.ts';
import { eventually } from '../support/eventually.ts';

const FRAGMENTS = forbiddenFragments();

const EXPRESSIONS = "SELECT id, name, upper(email) AS e, row_to_json(u)::text AS j, ssn || '' AS s FROM users u ORDER BY id";

describe('SQL cursors through the Postgres PEP', () => {
  let stack: PepStack;
  let reader: string;
  let piiReader: string;

  before(async () => {
    stack = await startPepStack({ resource: 'orders-db', seed: seedSql() });
    reader = await stack.token('agent-cursor-reader', ['reader']);
    piiReader = await stack.token('agent-cursor-pii', ['reader', 'pii-reader']);
  });
  after(() => stack?.close());

  it('the PDP\'s answer names each cursor statement\'s cursor; DECLARE carries its query\'s outputs', async () => {
    const statementsOf = async (sql: string): Promise<Array<Record<string, unknown>>> => {
      const answer = await stack.pdp.decide({
        subject_token: reader,
        resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
        action: { type: 'sql', sql },
      });
      assert.equal(answer.body.effect, 'allow', JSON.stringify(answer.body.reasons));
      return (answer.body.enrichment as { statements: Array<Record<string, unknown>> }).statements;
    };
    const [declared] = await statementsOf('DECLARE "Mixed" CURSOR WITH HOLD FOR SELECT upper(email) FROM users');
    const [selected] = await statementsOf('SELECT upper(email) FROM users');
    assert.deepEqual(declared, { ...selected, cursor: { name: 'Mixed', operation: 'declare', hold: true } });
    assert.equal('cursor' in selected!, false, 'other statements carry no cursor field');
    assert.deepEqual(await statementsOf('FETCH 10 FROM Mixed; CLOSE ALL'), [
      { kind: 'cursor', outputs: null, copy_format: null, cursor: { name: 'mixed', operation: 'fetch', hold: false } },
      { kind: 'cursor', outputs: null, copy_format: null, cursor: { name: null, operation: 'close', hold: false } },
    ]);
  });

  it('psql with FETCH_COUNT prints the rows it prints without, masked the same way', async () => {
    const queries = [
      'SELECT id, name, email, ssn, phone FROM users ORDER BY id;',
      `${EXPRESSIONS};`,
      'SELECT c.* FROM customers c ORDER BY id;',
    ].join('\n');
    const plain = await stack.psql(reader, `\\set ON_ERROR_STOP on\n${queries}\n`, ['-A', '-t']);
    const decisionsBefore = (await stack.pdp.auditEvents('decisions')).length;
    const fetched = await stack.psql(reader, `\\set ON_ERROR_STOP on\n\\set FETCH_COUNT 1\n${queries}\n`, ['-A', '-t']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal(fetched.stdout, plain.stdout);
    assert.ok(plain.stdout.includes(ALICE.name) && plain.stdout.includes(BOB.name), 'names come back unmasked');
    assert.ok(plain.stdout.includes('****@EXAMPLE.ORG'), `upper(email) is masked by its provenance (partial): ${plain.stdout}`);
    assert.deepEqual(leaks(fetched.stdout), []);

    // psql really went through a cursor, and every step of it was allowed.
    const cursorDecisions = (await stack.pdp.auditEvents('decisions')).slice(decisionsBefore).filter((event) => JSON.stringify(event).includes('_psql_cursor'));
    const texts = cursorDecisions.map((event) => JSON.stringify(event));
    assert.ok(texts.some((text) => text.includes('DECLARE _psql_cursor')), 'a DECLARE was decided');
    // The first FETCH is decided; the later ones differ in nothing, so they run under that allow
    // (decision reuse), each still on the session record.
    assert.ok(texts.some((text) => text.includes('FETCH FORWARD 1 FROM _psql_cursor')), 'a FETCH was decided');
    let fetches: string[] = [];
    await eventually('three FETCHes are on the session record', async () => {
      fetches = sessionStatementBodies(await stack.pdp.auditEvents('sessions')).map((event) => event.statement.text).filter((text) => text.includes('FETCH FORWARD 1 FROM _psql_cursor'));
      return fetches.length >= 3;
    }, { timeoutMs: 5_000, intervalMs: 100 });
    assert.ok(fetches.length >= 3, `every FETCH (one per row and one more) is on the session record: ${fetches.length}`);
    assert.ok(texts.some((text) => text.includes('CLOSE _psql_cursor')), 'a CLOSE was decided');
  });

  it('node-postgres, simple protocol: FETCH masks upper() and row_to_json() by the DECLARE', async () => {
    const client = await stack.client(reader);
    try {
      const direct = (await client.query(EXPRESSIONS)).rows;
      await client.query('BEGIN');
      await client.query(`DECLARE Users_Cursor CURSOR FOR ${EXPRESSIONS}`);
      // The name is an identifier: unquoted, any case names the same cursor.
      const first = await client.query('FETCH 1 FROM USERS_CURSOR');
      const rest = await client.query('FETCH ALL FROM "users_cursor"');
      await client.query('CLOSE users_cursor');
      await client.query('COMMIT');
      const rows = [...first.rows, ...rest.rows];
      assert.deepEqual(rows, direct, 'the same masked rows as the query run directly');
      assert.deepEqual(rows.map((row) => row.name), [ALICE.name, BOB.name]);
      assert.equal(rows[0].e, '****@EXAMPLE.ORG');
      assert.deepEqual(leaks(JSON.stringify(rows)), []);
    } finally {
      await client.end();
    }
  });

  it('node-postgres, extended protocol with text and binary results, and a WITH HOLD cursor past COMMIT', async () => {
    const client = await stack.client(reader);
    const extended = (text: string, binary = false): Promise<pg.QueryResult> => client.query(Object.assign({ text, values: [] }, { queryMode: 'extended', binary }));
    try {
      await extended('BEGIN');
      await extended(`DECLARE held CURSOR WITH HOLD FOR ${EXPRESSIONS}`);
      await extended('COMMIT');
      const text = await extended('FETCH 1 FROM held');
      const binary = await extended('FETCH ALL FROM held', true);
      await extended('CLOSE held');
      const rows = [...text.rows, ...binary.rows];
      assert.deepEqual(rows.map((row) => row.name), [ALICE.name, BOB.name]);
      assert.deepEqual(rows.map((row) => row.e), ['****@EXAMPLE.ORG', '****@EXAMPLE.NET'], 'masked by provenance (partial), not strictly');
      assert.deepEqual(leaks(JSON.stringify(rows)), []);
    } finally {
      await client.end();
    }
  });

  it('refuses a reader a cursor over a data-modifying CTE (the bypass corpus also checks that nothing reaches the server)', async () => {
    const client = await stack.client(reader);
    const before = await stack.pg.sql('SELECT md5(string_agg(o::text, \',\' ORDER BY id)) FROM orders o');
    try {
      await client.query('BEGIN');
      await assert.rejects(
        client.query('DECLARE c CURSOR FOR WITH d AS (DELETE FROM orders WHERE id = 2 RETURNING *) SELECT * FROM d'),
        (error: pg.DatabaseError) => {
          assert.equal(error.code, '42501');
          assert.match(error.message, /portcullis: denied by policy \(insufficient-role/);
          return true;
        },
      );
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
    assert.equal(await stack.pg.sql('SELECT md5(string_agg(o::text, \',\' ORDER BY id)) FROM orders o'), before, 'orders are untouched');
  });

  it('masks strictly the rows of a cursor it never saw declared (opened inside a function: see seedSql)', async () => {
    // Calling a user-defined function is judged like CALL: a reader agent may not; a human writer
    // may once an approver agrees (production), and is still masked (no pii-reader role).
    const refused = await stack.client(reader);
    try {
      await assert.rejects(refused.query("SELECT open_users_cursor('fn_cursor')"), (error: { code?: string }) => error.code === '42501');
    } finally {
      await refused.end();
    }
    const client = await stack.client(await stack.token('human-cursor-writer', ['writer'], 'human'));
    try {
      await client.query('BEGIN');
      const notice = new Promise<string>((resolve) => client.once('notice', (message) => resolve(message.message ?? '')));
      const opened = client.query("SELECT open_users_cursor('fn_cursor')");
      opened.catch(() => undefined);
      const approvalId = /approval ([0-9a-f-]{36})/.exec(await notice)?.[1];
      assert.ok(approvalId, 'calling the function is held for approval');
      const vote = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await stack.consoleToken('alice', ['approver'])}`, 'content-type': 'application/json' },
        body: JSON.stringify({ verdict: 'approve', reason: 'cursor test' }),
      });
      assert.equal(vote.status, 200, await vote.text());
      await opened;
      const fetched = await client.query('FETCH ALL FROM fn_cursor');
      await client.query('COMMIT');
      assert.deepEqual(fetched.rows.map((row) => row.name), [ALICE.name, BOB.name], 'plain columns are placed through the catalog');
      // Expression columns with no known provenance get the strictest obligation: redact.
      assert.deepEqual(fetched.rows.map((row) => [row.e, row.s]), [['****', '****'], ['****', '****']]);
      assert.deepEqual(leaks(JSON.stringify(fetched.rows)), []);
    } finally {
      await client.end();
    }
  });

  it('masks strictly a protocol portal bound under a declared cursor\'s name', async () => {
    const client = await RawClient.login(stack.port, reader);
    try {
      client.send(msg.query('BEGIN'));
      await client.untilReady();
      client.send(msg.query("DECLARE p1 CURSOR FOR SELECT 'harmless'::text AS t"));
      assert.deepEqual((await client.untilReady()).map(describeMessage), ['C DECLARE CURSOR', 'Z T']);
      // The server now holds a portal p1 the DECLARE never described; FETCH reads it all the same.
      client.send([closePortal('p1'), msg.parse('', 'SELECT upper(ssn) AS t FROM users ORDER BY id'), msg.bind('p1', ''), msg.sync()]);
      assert.deepEqual((await client.untilReady()).map(describeMessage), ['3', '1', '2', 'Z T']);
      client.send(msg.query('FETCH ALL FROM p1'));
      const answer = await client.untilReady();
      assert.deepEqual(answer.map(describeMessage), ['T', 'D', 'D', 'C FETCH 2', 'Z T']);
      assert.deepEqual(dataRowTexts(answer), ['****', '****']);
      assert.deepEqual(leaks(Buffer.concat(answer.map((message) => message.body)).toString('latin1')), []);
    } finally {
      client.destroy();
    }
  });

  it('masks a FETCH pipelined behind CLOSE and DECLARE by the new DECLARE', async () => {
    const client = await RawClient.login(stack.port, reader);
    try {
      client.send(msg.query('BEGIN'));
      await client.untilReady();
      client.send(msg.query("DECLARE c CURSOR FOR SELECT 'harmless'::text AS t"));
      await client.untilReady();
      // The server is kept busy first, so the PEP decides all three before it has answered any.
      client.send([
        msg.query('SELECT count(*) FROM generate_series(1, 3000000)'),
        msg.query('CLOSE c'),
        msg.query('DECLARE c CURSOR FOR SELECT upper(ssn) AS t FROM users ORDER BY id'),
        msg.query('FETCH ALL FROM c'),
      ]);
      await client.untilReady();
      const answers = [...(await client.untilReady()), ...(await client.untilReady()), ...(await client.untilReady())];
      assert.deepEqual(answers.map(describeMessage), ['C CLOSE CURSOR', 'Z T', 'C DECLARE CURSOR', 'Z T', 'T', 'D', 'D', 'C FETCH 2', 'Z T']);
      assert.deepEqual(dataRowTexts(answers), ['****', '****'], 'upper(ssn) keeps its obligation (redact)');
      assert.deepEqual(leaks(Buffer.concat(answers.map((message) => message.body)).toString('latin1')), []);
    } finally {
      client.destroy();
    }
  });

  it('remembers only the DECLAREs the server ran: one refused for a taken name changes nothing', async () => {
    const client = await stack.client(reader);
    try {
      await client.query('BEGIN');
      await client.query('DECLARE c CURSOR FOR SELECT name, upper(ssn) AS s FROM users ORDER BY id');
      await client.query('SAVEPOINT before_second');
      await assert.rejects(client.query("DECLARE c CURSOR FOR SELECT 'harmless' AS name, 'harmless'::text AS s"), { code: '42P03' });
      await client.query('ROLLBACK TO SAVEPOINT before_second');
      const fetched = await client.query('FETCH ALL FROM c');
      await client.query('COMMIT');
      assert.deepEqual(fetched.rows, [{ name: ALICE.name, s: '****' }, { name: BOB.name, s: '****' }], 'the first DECLARE\'s rows, masked by its provenance');
    } finally {
      await client.end();
    }
  });

  it('gives a pii-reader the values in clear through a cursor', async () => {
    const client = await stack.client(piiReader);
    try {
      await client.query('BEGIN');
      await client.query('DECLARE c CURSOR FOR SELECT upper(email) AS e, ssn FROM users WHERE id = 2');
      const fetched = await client.query('FETCH ALL FROM c');
      await client.query('COMMIT');
      assert.deepEqual(fetched.rows, [{ e: BOB.email.toUpperCase(), ssn: BOB.ssn }]);
    } finally {
      await client.end();
    }
  });
});

/** Fragments of seeded sensitive values found in `text`. */
function leaks(text: string): string[] {
  const lower = text.toLowerCase();
  return FRAGMENTS.filter((fragment) => lower.includes(fragment));
}

function closePortal(name: string): Buffer {
  return new MessageBuilder().byte(0x50).cstring(name).build('C');
}

/** The first column of every DataRow, as text. */
function dataRowTexts(messages: Array<{ type: number; body: Buffer }>): string[] {
  return messages
    .filter((message) => message.type === 0x44)
    .map((message) => {
      const length = message.body.readInt32BE(2);
      return message.body.toString('utf8', 6, 6 + length);
    });
}
