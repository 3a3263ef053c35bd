// Masked values must not leave through what is not a result row: notifications (from any
// session), ParameterStatus after start-up, and every field of the server's errors and notices,
// whatever their SQLSTATE. Through the real PDP (starter policy), the PEP and PostgreSQL, with
// node-postgres, a wire-level client and psql. The writer here may write (analytics-db is
// staging) but is not entitled to personal data; the pii principals show each route is real.
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { decodeNoticeFields, decodeParameterStatus } from '@portcullis/pep-postgres/testing';
import type { FramedMessage } from '@portcullis/pep-postgres/testing';
import { sessionEventBodies, type SessionEventBody } from '../support/session-records.ts';
import { ALICE, BOB, CUSTOMERS, forbiddenFragments, seedSql } from './bypass-corpus-fixtures.ts';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { msg, RawClient } from './raw-client.ts';
import { eventually } from '../support/eventually.ts';

const FRAGMENTS = forbiddenFragments();

const SEED = `
  ${seedSql()}
  CREATE UNIQUE INDEX users_email_unique ON users (email);
  CREATE TABLE checked_codes (code text CHECK (code ~ '^[A-Z]+$'));
  CREATE TABLE required_pair (a text, b text NOT NULL);
  -- Plain INSERTs whose triggers do what the statement's text does not show.
  CREATE TABLE profile_touch (user_id int);
  CREATE FUNCTION leak_on_touch() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM set_config('application_name', (SELECT ssn FROM users WHERE id = NEW.user_id), false);
    PERFORM set_config('TimeZone', '<' || (SELECT replace(ssn, '-', '') FROM users WHERE id = NEW.user_id) || '>5', false);
    PERFORM pg_notify('touch', (SELECT ssn || ' ' || email FROM users WHERE id = NEW.user_id));
    RETURN NEW;
  END $$;
  CREATE TRIGGER touch BEFORE INSERT ON profile_touch FOR EACH ROW EXECUTE FUNCTION leak_on_touch();
  CREATE TABLE raise_probe (user_id int);
  CREATE FUNCTION raise_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE NOTICE 'checking %', (SELECT ssn FROM users WHERE id = NEW.user_id);
    RAISE WARNING 'phone %', (SELECT phone FROM users WHERE id = NEW.user_id) USING HINT = (SELECT email FROM users WHERE id = NEW.user_id);
    RAISE EXCEPTION 'ssn %', (SELECT ssn FROM users WHERE id = NEW.user_id)
      USING DETAIL = (SELECT email FROM users WHERE id = NEW.user_id), HINT = (SELECT card_number FROM customers WHERE id = NEW.user_id),
            ERRCODE = 'P' || (SELECT substr(replace(ssn, '-', ''), 1, 4) FROM users WHERE id = NEW.user_id);
  END $$;
  CREATE TRIGGER raise_probe BEFORE INSERT ON raise_probe FOR EACH ROW EXECUTE FUNCTION raise_on_insert();
`;

interface Seen {
  readonly text: string;
  readonly error?: { code: string; message: string; detail?: string | undefined; hint?: string | undefined };
  readonly notices: string[];
}

/** Fragments of seeded sensitive values in `text`, each with a little context. */
function leaks(text: string): string[] {
  const lower = text.toLowerCase();
  return FRAGMENTS.filter((fragment) => lower.includes(fragment)).map((fragment) => {
    const at = lower.indexOf(fragment);
    return `${fragment} in …${JSON.stringify(lower.slice(Math.max(0, at - 20), at + fragment.length + 20))}…`;
  });
}

describe('masked values through side channels (notifications, ParameterStatus, errors and notices)', () => {
  let stack: PepStack;
  let reader: string;
  let writer: string;
  let piiReader: string;
  let piiWriter: string;

  before(async () => {
    stack = await startPepStack({ resource: 'analytics-db', seed: SEED });
    reader = await stack.token('agent-side-reader', ['reader']);
    writer = await stack.token('agent-side-writer', ['writer']);
    piiReader = await stack.token('agent-side-pii-reader', ['reader', 'pii-reader']);
    piiWriter = await stack.token('agent-side-pii-writer', ['writer', 'pii-reader']);
  });
  after(async () => {
    await stack?.close();
  });

  /** One statement through node-postgres (simple or extended), every byte the client got kept. */
  async function viaNodePostgres(token: string, sql: string, mode: 'simple' | 'extended', setup: string[] = []): Promise<Seen> {
    const chunks: Buffer[] = [];
    const socket = new Socket();
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const client = await stack.client(token, { stream: () => socket });
    const notices: string[] = [];
    client.on('notice', (notice) => notices.push(`${notice.severity ?? ''} ${notice.code ?? ''} ${notice.message}`));
    try {
      for (const statement of setup) await client.query(statement);
      chunks.length = 0;
      try {
        await client.query(mode === 'simple' ? sql : { text: sql, values: [], queryMode: 'extended' } as pg.QueryConfig);
        return { text: Buffer.concat(chunks).toString('latin1'), notices };
      } catch (error) {
        const { code, message, detail, hint } = error as pg.DatabaseError;
        return { text: Buffer.concat(chunks).toString('latin1'), notices, error: { code: code ?? '', message, detail, hint } };
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** A simple Query on the wire; every message up to ReadyForQuery. */
  async function viaWire(token: string, statements: string[]): Promise<FramedMessage[]> {
    const client = await RawClient.login(stack.port, token);
    try {
      const messages: FramedMessage[] = [];
      for (const sql of statements) {
        client.send(msg.query(sql));
        messages.push(...(await client.untilReady()));
      }
      return messages;
    } finally {
      client.destroy();
    }
  }

  const bodies = (messages: readonly FramedMessage[]): string => Buffer.concat(messages.map((message) => message.body)).toString('latin1');

  describe('notifications', () => {
    /** Listens on `channel` through the PEP, has a superuser send `payload` from its own session, and returns what arrived. */
    async function notified(token: string, channel: string, payload: string): Promise<{ payload: string | undefined; bytes: string }> {
      const chunks: Buffer[] = [];
      const socket = new Socket();
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const client = await stack.client(token, { stream: () => socket });
      try {
        const arrived = new Promise<pg.Notification>((resolve) => client.on('notification', resolve));
        await client.query(`LISTEN ${channel}`);
        await stack.pg.sql(`SELECT pg_notify('${channel}', '${payload}')`);
        // The notification arrives while the session is idle, between statements.
        const notification = await Promise.race([arrived, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no notification within 15 s')), 15_000))]);
        return { payload: notification.payload, bytes: Buffer.concat(chunks).toString('latin1') };
      } finally {
        await client.end().catch(() => undefined);
      }
    }

    const secretPayloads = [
      `${BOB.ssn} ${BOB.email}`,
      `${ALICE.ssn}|${ALICE.phone}`,
      CUSTOMERS[1].card,
      JSON.stringify({ ssn: BOB.ssn, card: CUSTOMERS[0].card }),
    ];

    for (const [index, payload] of secretPayloads.entries()) {
      it(`a masked reader listening gets the channel but not the payload another session sent (${index + 1})`, async () => {
        const seen = await notified(reader, `ch_${index}`, payload);
        assert.equal(seen.payload, '****');
        assert.deepEqual(leaks(seen.bytes), []);
      });
    }

    it('a masked writer gets no payload either; an empty payload stays empty', async () => {
      assert.equal((await notified(writer, 'ch_writer', BOB.ssn)).payload, '****');
      assert.equal((await notified(writer, 'ch_empty', '')).payload, '');
    });

    it('a pii-reader gets the payload as sent (the route is real)', async () => {
      assert.equal((await notified(piiReader, 'ch_pii', `${BOB.ssn} ${BOB.email}`)).payload, `${BOB.ssn} ${BOB.email}`);
    });
  });

  describe('ParameterStatus after start-up', () => {
    it('a trigger setting application_name and a POSIX TimeZone to an SSN: the masked writer is not told the values', async () => {
      const messages = await viaWire(writer, ['LISTEN touch', 'INSERT INTO profile_touch VALUES (2)']);
      const statuses = messages.filter((message) => message.type === 0x53).map((message) => decodeParameterStatus(message.body));
      assert.deepEqual(statuses.filter((status) => status.name === 'application_name' || status.name === 'TimeZone'), []);
      const notification = messages.find((message) => message.type === 0x41);
      assert.ok(notification, 'the trigger notified the listening session');
      assert.deepEqual(leaks(bodies(messages)), []);
      assert.ok(messages.some((message) => message.type === 0x43), 'the INSERT completed');
    });

    it('the same insert tells a pii-writer the values (the route is real)', async () => {
      const messages = await viaWire(piiWriter, ['INSERT INTO profile_touch VALUES (2)']);
      const statuses = messages.filter((message) => message.type === 0x53).map((message) => decodeParameterStatus(message.body));
      assert.ok(statuses.some((status) => status.name === 'application_name' && status.value === BOB.ssn), JSON.stringify(statuses));
    });

    it('a masked writer still learns a change to a closed-set setting (DateStyle)', async () => {
      const messages = await viaWire(writer, ["SET DateStyle = 'German, DMY'"]);
      const statuses = messages.filter((message) => message.type === 0x53).map((message) => decodeParameterStatus(message.body));
      // SET may be refused by policy; if it ran, the client hears of it.
      if (messages.some((message) => message.type === 0x43)) assert.deepEqual(statuses, [{ name: 'DateStyle', value: 'German, DMY' }]);
    });
  });

  describe('errors and notices of every class', () => {
    // The SQLSTATE the masked principal gets (or 42501: policy may refuse the statement outright).
    const cases: Array<{ name: string; who: 'reader' | 'writer'; sql: string; code: string | string[]; setup?: string[] }> = [
      { name: 'a value cast to regclass', who: 'reader', sql: 'SELECT (SELECT ssn FROM users WHERE id = 2)::regclass', code: '42P01' },
      { name: 'a card number as a setting name', who: 'reader', sql: 'SELECT current_setting((SELECT card_number FROM customers WHERE id = 2))', code: '42704' },
      { name: 'an email cast to regtype', who: 'reader', sql: 'SELECT (SELECT email FROM users WHERE id = 2)::regtype', code: '42601' },
      { name: 'an email cast to regproc (a cross-database name)', who: 'reader', sql: 'SELECT (SELECT email FROM users WHERE id = 2)::regproc', code: '0A000' },
      { name: 'a dashed SSN cast to int', who: 'reader', sql: 'SELECT ssn::int FROM users WHERE id = 1', code: '22P02' },
      { name: 'an SSN in a JSON parse error (context)', who: 'reader', sql: "SELECT (ssn || ' x')::json FROM users WHERE id = 2", code: '22P02' },
      { name: 'a phone in to_date', who: 'reader', sql: "SELECT to_date(phone, 'YYYY-MM-DD') FROM users WHERE id = 1", code: ['22007', '22008'] },
      { name: 'an SSN in an array literal', who: 'reader', sql: "SELECT ('{' || ssn || '}')::int[] FROM users WHERE id = 1", code: '22P02' },
      { name: 'an SSN cast to a date', who: 'reader', sql: 'SELECT ssn::date FROM users WHERE id = 2', code: '22008' },
      { name: 'an error at FETCH of a cursor', who: 'reader', sql: 'FETCH 1 FROM leak_cursor', code: '42P01', setup: ['BEGIN', 'DECLARE leak_cursor CURSOR FOR SELECT ssn::regclass FROM users WHERE id = 2'] },
      { name: 'a unique violation printing the key', who: 'writer', sql: "INSERT INTO users (id, name, email) SELECT 9, 'x', email FROM users WHERE id = 2", code: '23505' },
      { name: 'a check violation printing the row', who: 'writer', sql: 'INSERT INTO checked_codes SELECT ssn FROM users WHERE id = 2', code: '23514' },
      { name: 'a not-null violation printing the row', who: 'writer', sql: 'INSERT INTO required_pair SELECT email, NULL FROM users WHERE id = 2', code: '23502' },
      { name: 'a RAISE from a trigger, its notices and a computed SQLSTATE', who: 'writer', sql: 'INSERT INTO raise_probe VALUES (2)', code: 'P0001' },
      { name: 'an update casting a value', who: 'writer', sql: 'UPDATE orders SET qty = (SELECT ssn FROM users WHERE id = 2)::regclass::oid::int WHERE id = 1', code: '42P01' },
    ];

    for (const testCase of cases) {
      for (const mode of ['simple', 'extended'] as const) {
        it(`${mode}: ${testCase.name}: SQLSTATE kept, no value in any field`, async () => {
          const seen = await viaNodePostgres(testCase.who === 'reader' ? reader : writer, testCase.sql, mode, testCase.setup);
          assert.ok(seen.error, 'the statement failed');
          assert.ok([testCase.code, '42501'].flat().includes(seen.error.code), `SQLSTATE ${seen.error.code}: ${seen.error.message}`);
          if (seen.error.code !== '42501') {
            assert.match(seen.error.hint ?? '', /withheld/);
            assert.equal(seen.error.detail, undefined);
          }
          assert.deepEqual(leaks(seen.text), [], 'no fragment of a seeded value reached the client');
          assert.deepEqual(leaks(seen.notices.join('\n')), []);
        });
      }
    }

    it('a pii-writer gets the server\'s full text (the routes are real)', async () => {
      const regclass = await viaNodePostgres(piiWriter, 'SELECT (SELECT ssn FROM users WHERE id = 2)::regclass', 'simple');
      assert.match(regclass.error?.message ?? '', new RegExp(BOB.ssn));
      const unique = await viaNodePostgres(piiWriter, "INSERT INTO users (id, name, email) SELECT 9, 'x', email FROM users WHERE id = 2", 'simple');
      assert.equal(unique.error?.code, '23505');
      assert.match(unique.error?.detail ?? '', new RegExp(BOB.email.replace('.', '\\.')));
      const raised = await viaNodePostgres(piiWriter, 'INSERT INTO raise_probe VALUES (2)', 'simple');
      assert.match(raised.error?.message ?? '', new RegExp(BOB.ssn));
      assert.ok(raised.notices.some((notice) => notice.includes(BOB.ssn)), raised.notices.join('\n'));
    });

    it('the RAISE trigger\'s notices reach a masked writer as their severities, without text', async () => {
      const seen = await viaNodePostgres(writer, 'INSERT INTO raise_probe VALUES (1)', 'simple');
      assert.deepEqual(seen.notices, ['NOTICE 00000 notice', 'WARNING 01000 warning']);
      assert.equal(seen.error?.code, 'P0001', 'an SQLSTATE computed from a value is not passed on');
    });

    it('wire level: COPY whose rows fail, and an error at Bind, keep no value', async () => {
      const messages = await viaWire(reader, ['COPY (SELECT ssn::regclass FROM users) TO STDOUT']);
      const error = messages.find((message) => message.type === 0x45);
      assert.ok(error);
      assert.ok(['42P01', '42501'].includes(decodeNoticeFields(error.body).get('C') ?? ''));
      assert.deepEqual(leaks(bodies(messages)), []);

      const client = await RawClient.login(stack.port, reader);
      try {
        client.send([msg.parse('', 'SELECT $1::int AS n FROM users WHERE id = 2'), msg.bind('', '', [BOB.ssn + 'x']), msg.execute(''), msg.sync()]);
        const answer = await client.untilReady();
        const bindError = answer.find((message) => message.type === 0x45);
        assert.ok(bindError, 'the server refused the parameter');
        assert.equal(decodeNoticeFields(bindError.body).get('M'), 'invalid text representation');
      } finally {
        client.destroy();
      }
    });

    it('psql with VERBOSITY verbose shows SQLSTATE and the fixed text only', async () => {
      const result = await stack.psql(reader, '\\set VERBOSITY verbose\nSELECT (SELECT ssn FROM users WHERE id = 2)::regclass;\nSELECT ssn::int FROM users WHERE id = 1;\n');
      assert.match(result.stderr, /ERROR:\s+(42P01|42501)/);
      assert.deepEqual(leaks(result.stdout + result.stderr), []);
    });

    it('the session record keeps each error as the masked client saw it: no value in the audit trail', async () => {
      const marker = `side-channel-audit-${Date.now()}`;
      const seen = await viaNodePostgres(writer, `SELECT (SELECT ssn FROM users WHERE id = 2)::regclass /* ${marker} */`, 'simple');
      assert.ok(seen.error);
      let mine: SessionEventBody[] = [];
      // Bounded (20 s): a session's statements are posted in runs, later under load.
      const statement = await eventually(`the statement ${marker} is on the session record`, async () => {
        const events = sessionEventBodies(await stack.pdp.auditEvents('sessions'));
        const found = events.find((event) => event.event === 'session.statement' && JSON.stringify(event).includes(marker));
        mine = found ? events.filter((event) => event.session.id === found.session.id) : [];
        return found;
      }, { timeoutMs: 20_000, intervalMs: 100 });
      assert.ok(statement, `the statement was recorded (PEP log: ${stack.logs.slice(-5).join(' | ')})`);
      assert.match(JSON.stringify(statement), /42P01/);
      assert.deepEqual(leaks(JSON.stringify(mine)), []);
    });

    it('the PEP\'s own refusal in a masked session is not reduced: its reasons and decision id are intact', async () => {
      const seen = await viaNodePostgres(reader, 'DELETE FROM orders WHERE id = 1', 'simple');
      assert.equal(seen.error?.code, '42501');
      assert.match(seen.error?.message ?? '', /^portcullis: denied by policy .*\[decision [0-9a-f-]{36}\.\d+\.(?:a|n|r\d+)\.[\w-]{22}\]$/);
    });
  });
});
