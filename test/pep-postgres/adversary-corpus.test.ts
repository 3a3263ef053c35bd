// The adversary corpus: variants of every defect class of issue 10 that the other suites do not
// try, run as a reader, a writer without pii, a pii-writer and a human dba would, against the real
// PDP (starter policy), the Postgres PEP and PostgreSQL, with node-postgres, psql and a wire-level
// client. Each case asserts the safe outcome: refused with nothing run (the server's own statement
// log and the data say so), or no fragment of a value the principal may only see masked in
// anything that reached the client. Cases that were already safe stay as regression tests.
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { decodeNoticeFields } from '@portcullis/pep-postgres/testing';
import { ALICE, BOB, forbiddenFragments } from './bypass-corpus-fixtures.ts';
import { adversarySeedSql } from './adversary-corpus-fixtures.ts';
import { startPepStack, UPSTREAM_USER, type PepStack } from './pep-stack.ts';
import { describe as transcript, msg, RawClient } from './raw-client.ts';
import { statementsLoggedSince as clientStatementsLoggedSince, upstreamLogOffset } from './upstream-statement-log.ts';
import { eventually } from '../support/eventually.ts';

const FRAGMENTS = forbiddenFragments();
const NAMES = [ALICE.name, BOB.name];

type Via = 'simple' | 'extended' | 'extended-binary' | 'psql';

interface Outcome {
  /** Every byte (psql: every character) the client was given. */
  readonly received: string;
  readonly error?: { code: string; message: string };
  readonly rows: unknown[];
}

/** Fragments of seeded sensitive values in `text`, each with a little context. */
function leaks(text: string): string[] {
  const lower = text.toLowerCase();
  return FRAGMENTS.filter((fragment) => lower.includes(fragment)).map((fragment) => {
    const at = lower.indexOf(fragment);
    return `${fragment} in …${JSON.stringify(lower.slice(Math.max(0, at - 20), at + fragment.length + 20))}…`;
  });
}

describe('adversary corpus: issue 10 variants through the Postgres PEP (analytics-db, staging)', () => {
  let stack: PepStack;
  let reader: string;
  let dba: string;

  before(async () => {
    stack = await startPepStack({ resource: 'analytics-db', seed: adversarySeedSql() });
    await stack.pg.sql(`ALTER ROLE ${UPSTREAM_USER} SET log_statement = 'all'`);
    await stack.pg.sql("ALTER SYSTEM SET log_line_prefix = '%m [%p] app=%a '");
    await stack.pg.sql('SELECT pg_reload_conf()');
    await eventually('new sessions see the new log_line_prefix', async () => (await stack.pg.sql('SHOW log_line_prefix')).includes('app='), { timeoutMs: 5_000, intervalMs: 100 });
    // Statistics hold column values: a reader must not get them through pg_stats either.
    await stack.pg.sql('ANALYZE users; ANALYZE customers');
    reader = await stack.token('agent-adversary-reader', ['reader']);
    dba = await stack.token('human-adversary-dba', ['dba'], 'human');
  });
  after(() => stack?.close());

  const logOffset = (): number => upstreamLogOffset(stack.pg);
  const statementsLoggedSince = (offset: number): string[] => clientStatementsLoggedSince(stack.pg, offset);
  const orderIds = async (): Promise<string> => (await stack.pg.sql('SELECT string_agg(id::text, \',\' ORDER BY id) FROM orders')).trim();

  /** One statement on a fresh session; `started` gets the server log's size once the session is up. */
  async function attempt(token: string, sql: string, via: Via, started: (offset: number) => void = () => undefined): Promise<Outcome> {
    if (via === 'psql') {
      started(logOffset());
      const result = await stack.psql(token, `\\set ON_ERROR_STOP on\n\\set VERBOSITY verbose\n${sql}\n`, ['-A']);
      const code = /ERROR:\s+([0-9A-Z]{5}):/.exec(result.stderr)?.[1];
      return { received: result.stdout + result.stderr, rows: [], ...(code ? { error: { code, message: result.stderr } } : {}) };
    }
    const chunks: Buffer[] = [];
    const socket = new Socket();
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const client = await stack.client(token, { stream: () => socket });
    try {
      chunks.length = 0;
      started(logOffset());
      const query: pg.QueryConfig = { text: sql };
      if (via !== 'simple') Object.assign(query, { values: [], queryMode: 'extended', binary: via === 'extended-binary' });
      try {
        const result = await client.query(query);
        const results = Array.isArray(result) ? (result as pg.QueryResult[]) : [result];
        return { received: Buffer.concat(chunks).toString('latin1'), rows: results.flatMap((r) => r.rows) };
      } catch (error) {
        const { code, message } = error as pg.DatabaseError;
        return { received: Buffer.concat(chunks).toString('latin1'), rows: [], error: { code: code ?? '', message } };
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  describe('a parameter type declared at Parse is a cast policy must see', () => {
    /** Parse with the given parameter type OIDs, Bind '19', Execute, Sync: what came back. */
    async function parseTyped(token: string, sql: string, oids: number[]): Promise<string[]> {
      const client = await RawClient.login(stack.port, token);
      try {
        const parse = new MessageBuilder().cstring('').cstring(sql).int16(oids.length);
        for (const oid of oids) parse.int32(oid | 0);
        client.send([parse.build('P'), msg.bind('', '', oids.map(() => '19')), msg.execute(''), msg.sync()]);
        return (await client.untilReady()).map((message) => message.type === 0x45 ? `E ${decodeNoticeFields(message.body).get('C')} ${decodeNoticeFields(message.body).get('M')}` : transcript(message));
      } finally {
        client.destroy();
      }
    }

    it('refuses a reader\'s `SELECT $1` typed as a domain whose check deletes, and nothing runs', async () => {
      const oid = Number((await stack.pg.sql("SELECT 'archiving'::regtype::oid")).trim());
      const from = logOffset();
      const answer = await parseTyped(reader, 'SELECT $1 AS x', [oid]);
      assert.match(answer[0] ?? '', /^E 42501 portcullis: a parameter is declared with type OID \d+, which is not built in$/);
      assert.deepEqual(answer.slice(1), ['Z I'], 'nothing else ran');
      assert.deepEqual(statementsLoggedSince(from), []);
      assert.match(await orderIds(), /,19,/, 'order 19 is still there');
    });

    it('refuses it for a human dba too, and for a type OID above 2^31 (read unsigned)', async () => {
      const oid = Number((await stack.pg.sql("SELECT 'archiving'::regtype::oid")).trim());
      assert.match((await parseTyped(dba, 'SELECT $1 AS x', [oid]))[0] ?? '', /^E 42501 /);
      assert.match((await parseTyped(reader, 'SELECT $1 AS x', [0xfffffff0]))[0] ?? '', /^E 42501 .*4294967280/);
      assert.match(await orderIds(), /,19,/);
    });

    it('still binds parameters declared with built-in types (int4, text, unspecified)', async () => {
      assert.deepEqual(await parseTyped(reader, 'SELECT $1::int + 1 AS x, $2 AS y, $3 AS z', [23, 25, 0]), ['1', '2', 'D', 'C SELECT 1', 'Z I']);
    });
  });

  describe('reads that are already masked: regression cases (a reader agent)', () => {
    const reads: Array<{ name: string; sql: string; via: Via; shows?: readonly string[] }> = [
      { name: 'pg_stats of an analyzed table', sql: "SELECT attname, most_common_vals::text, histogram_bounds::text FROM pg_stats WHERE tablename IN ('users', 'customers')", via: 'simple' },
      { name: 'pg_stats, every column (binary results)', sql: "SELECT * FROM pg_stats WHERE tablename = 'users'", via: 'extended-binary' },
      { name: 'other sessions\' statements in pg_stat_activity', sql: 'SELECT query FROM pg_stat_activity', via: 'simple' },
      { name: 'a FROM alias list renaming the columns', sql: 'SELECT d, c, e, b FROM users AS u(a, b, c, d, e)', via: 'simple', shows: NAMES },
      { name: 'a FROM alias list over a subquery', sql: 'SELECT * FROM (SELECT ssn, phone, name FROM users) s(a, b, c)', via: 'extended', shows: NAMES },
      { name: 'a CTE column list', sql: 'WITH c(a, b) AS (SELECT ssn, email FROM users) SELECT a, b FROM c', via: 'simple' },
      { name: 'a whole row as a composite value', sql: 'SELECT u FROM users u', via: 'simple' },
      { name: 'a whole row as a composite value (binary results)', sql: 'SELECT u FROM users u', via: 'extended-binary' },
      { name: 'a row constructor', sql: 'SELECT ROW(ssn, phone, email) FROM users', via: 'simple' },
      { name: 'a row constructor (binary results)', sql: 'SELECT ROW(ssn, phone), (email, 1) FROM users', via: 'extended-binary' },
      { name: 'field selection and star of a whole-row value', sql: 'SELECT (u).ssn, (u).*, name FROM users u', via: 'simple', shows: NAMES },
      { name: 'TABLE users', sql: 'TABLE users', via: 'simple', shows: NAMES },
      { name: 'min/max and a window function', sql: 'SELECT min(ssn), max(phone), lag(email) OVER (ORDER BY id), first_value(ssn) OVER () FROM users', via: 'simple' },
      { name: 'ARRAY(subquery) and unnest of it', sql: 'SELECT ARRAY(SELECT ssn FROM users), x FROM unnest(ARRAY(SELECT phone FROM users)) x', via: 'simple' },
      { name: 'base64 and hex encodings', sql: "SELECT encode(convert_to(ssn, 'UTF8'), 'base64'), encode(convert_to(phone, 'UTF8'), 'hex'), md5(ssn) FROM users", via: 'simple' },
      { name: 'XML building', sql: 'SELECT xmlelement(name x, ssn), xmlforest(phone, email), xmlagg(xmlelement(name c, ssn)) OVER () FROM users', via: 'simple' },
      { name: 'a JSON path over the row', sql: "SELECT jsonb_path_query(to_jsonb(u), '$.ssn'), jsonb_each_text(to_jsonb(u)) FROM users u", via: 'simple' },
      { name: 'GROUP BY ROLLUP of the column', sql: 'SELECT ssn, count(*) FROM users GROUP BY ROLLUP (ssn)', via: 'simple' },
      { name: 'NATURAL JOIN with the materialized view', sql: 'SELECT * FROM users NATURAL JOIN users_mv', via: 'simple', shows: NAMES },
      { name: 'LATERAL re-selecting the column', sql: 'SELECT a.* FROM users u, LATERAL (SELECT u.ssn, u.phone) a', via: 'simple' },
      { name: 'a scalar subquery in VALUES', sql: 'SELECT v FROM (VALUES ((SELECT ssn FROM users WHERE id = 2)), ((SELECT phone FROM users WHERE id = 2))) t(v)', via: 'simple' },
      { name: 'a view read through a FROM alias list', sql: 'SELECT * FROM users_view AS v(a, b, c, d)', via: 'simple', shows: NAMES },
      { name: 'a cursor WITH HOLD read after COMMIT', sql: 'BEGIN; DECLARE h CURSOR WITH HOLD FOR SELECT u FROM users u; COMMIT; FETCH ALL FROM h', via: 'simple' },
      { name: '\\gset then \\echo', sql: 'SELECT ssn AS s, phone AS p FROM users WHERE id = 2 \\gset\n\\echo :s :p', via: 'psql' },
      { name: '\\crosstabview', sql: 'SELECT name, ssn, phone FROM users \\crosstabview', via: 'psql' },
      { name: '\\gexec running the values as statements', sql: "SELECT 'SELECT ' || quote_literal(ssn) FROM users \\gexec", via: 'psql' },
    ];
    for (const testCase of reads) {
      it(`${testCase.via}: ${testCase.name}`, async () => {
        const outcome = await attempt(reader, testCase.sql, testCase.via);
        assert.deepEqual(leaks(outcome.received), [], 'no fragment of a seeded sensitive value reached the client');
        for (const shown of testCase.shows ?? []) assert.ok(outcome.received.includes(shown), `non-sensitive value ${shown} comes back`);
      });
    }
  });
});
