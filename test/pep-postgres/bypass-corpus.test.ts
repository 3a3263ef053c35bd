// The bypass corpus: a `reader` agent on orders-db (production) tries every way we know to get a
// refused statement past the Postgres PEP, or a sensitive value out of it unmasked, against a real
// PostgreSQL, the real PDP with the starter policy and real clients (node-postgres in both
// protocols, a wire-level client for COPY, psql).
//
// How "never reached Postgres" is checked: the PEP's upstream role logs every statement it runs
// (`ALTER ROLE … SET log_statement = 'all'`, with the application name in the log prefix so the
// PEP's own catalog lookups can be told apart). A refused case's window of the server log must
// hold no statement but the PEP's unparseable stand-in, and a superuser snapshot of the data,
// relations, roles and grants must be the same before and after.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { decodeNoticeFields } from '@portcullis/pep-postgres/testing';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import {
  ALICE, BOB, CUSTOMERS, copyTargetFile, forbiddenFragments, readCases, refusedCases, seedSql,
  type ReadCase, type RefusedCase,
} from './bypass-corpus-fixtures.ts';
import { RawClient } from './raw-client.ts';
import { startPepStack, UPSTREAM_USER, type PepStack } from './pep-stack.ts';
import { statementsLoggedSince as clientStatementsLoggedSince, upstreamLogOffset } from './upstream-statement-log.ts';
import { eventually } from '../support/eventually.ts';

const FRAGMENTS = forbiddenFragments();

interface Outcome {
  /** Every byte (or, for psql, every character) the client was given. */
  readonly received: Buffer;
  readonly error?: { code: string; message: string };
  /** Rows (node-postgres), CommandComplete (raw) or exit 0 (psql) seen. */
  readonly completed: boolean;
}

describe('bypass corpus: a reader agent against orders-db through the Postgres PEP', () => {
  let stack: PepStack;
  let reader: string;
  let piiReader: string;
  const scratch = mkdtempSync(join(tmpdir(), 'portcullis-bypass-'));
  const copyFile = copyTargetFile(scratch);
  let logFrom = 0;

  before(async () => {
    stack = await startPepStack({ resource: 'orders-db', seed: seedSql() });
    await stack.pg.sql(`ALTER ROLE ${UPSTREAM_USER} SET log_statement = 'all'`);
    await stack.pg.sql("ALTER SYSTEM SET log_line_prefix = '%m [%p] app=%a '");
    await stack.pg.sql('SELECT pg_reload_conf()');
    // The reload reaches the postmaster asynchronously: wait (bounded) until new sessions see it.
    await eventually('new sessions see the new log_line_prefix', async () => (await stack.pg.sql('SHOW log_line_prefix')).includes('app='), { timeoutMs: 5_000, intervalMs: 100 });
    reader = await stack.token('agent-bypass-reader', ['reader']);
    piiReader = await stack.token('agent-bypass-pii', ['reader', 'pii-reader']);
  });
  after(async () => {
    await stack?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const logOffset = (): number => upstreamLogOffset(stack.pg);
  const statementsLoggedSince = (offset: number): string[] => clientStatementsLoggedSince(stack.pg, offset);

  const snapshot = (): Promise<string> =>
    stack.pg.sql(`SELECT json_build_object(
      'orders', (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o),
      'users', (SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM users u),
      'customers', (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c),
      'relations', (SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace OR relpersistence = 't'),
      'roles', (SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles),
      'grants', (SELECT string_agg(relname || '=' || coalesce(relacl::text, ''), ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace),
      'auto_conf', (SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' AND name <> 'log_line_prefix'))`);

  it('sees in the server log what reaches the server (the method the refusal cases rely on)', async () => {
    const offset = logOffset();
    const outcome = await run(stack, reader, { name: 'probe', sql: 'SELECT count(*) FROM orders /* log-probe */', via: 'simple' });
    assert.equal(outcome.error, undefined);
    const logged = statementsLoggedSince(offset);
    assert.ok(logged.some((line) => line.includes('log-probe')), `an allowed statement is logged: ${JSON.stringify(logged)}`);
  });

  describe('refused statements never reach Postgres', () => {
    for (const testCase of refusedCases(copyTargetFile('<scratch>'))) {
      it(`${testCase.via}: ${testCase.name}`, async () => {
        const resolved = { ...testCase, sql: testCase.sql.replaceAll(copyTargetFile('<scratch>'), copyFile) };
        const stateBefore = await snapshot();
        const outcome = await run(stack, reader, resolved, (offset) => { logFrom = offset; });
        const logged = statementsLoggedSince(logFrom);
        assert.ok(outcome.error, `the client got an error (received: ${JSON.stringify(outcome.received.toString('utf8').slice(0, 300))})`);
        if (outcome.error.code === '42601') {
          // Text PostgreSQL itself cannot parse is refused by the PEP as the server would answer it.
          assert.match(outcome.error.message, /^(syntax error|unterminated|trailing junk|zero-length)/, `a syntax error as PostgreSQL words it: ${outcome.error.message}`);
        } else {
          assert.equal(outcome.error.code, '42501', `SQLSTATE of a policy refusal: ${outcome.error.message}`);
          assert.match(outcome.error.message, /portcullis/i, 'the refusal is the PEP\'s, not the server\'s');
        }
        assert.deepEqual(logged, [], 'no statement of this case was run by the server');
        assert.equal(await snapshot(), stateBefore, 'data, relations, roles, grants and settings are unchanged');
        assert.equal(existsSync(copyFile), false, 'no server-side file was written');
      });
    }
  });

  describe('no seeded sensitive value reaches a reader unmasked', () => {
    for (const testCase of readCases()) {
      it(`${testCase.via}: ${testCase.name}`, async () => {
        const outcome = await run(stack, reader, testCase);
        if (!testCase.mayFail) {
          assert.equal(outcome.error, undefined, `the read is allowed and runs: ${outcome.error?.message}`);
          assert.ok(outcome.completed, 'the read completed');
        }
        assert.deepEqual(leaks(outcome.received), [], 'no fragment of a seeded sensitive value reached the client');
        const text = outcome.received.toString('utf8');
        for (const shown of testCase.shows ?? []) assert.ok(text.includes(shown), `non-sensitive value ${shown} comes back unchanged`);
      });
    }
  });

  describe('a pii-reader sees the values (the data really is there)', () => {
    // Bob's values have shapes no detector knows: what hides them from a reader is column masking alone.
    it('reads values no detector recognises unmasked, through the table, the views and the function', async () => {
      const client = await stack.client(piiReader);
      try {
        const users = await client.query('SELECT ssn, phone FROM users WHERE id = 2');
        assert.deepEqual(users.rows, [{ ssn: BOB.ssn, phone: BOB.phone }]);
        const cards = await client.query('SELECT card_number FROM customers WHERE id = 2');
        assert.deepEqual(cards.rows, [{ card_number: CUSTOMERS[1].card }]);
        const view = await client.query('SELECT ssn FROM users_view WHERE id = 2');
        assert.deepEqual(view.rows, [{ ssn: BOB.ssn }]);
        const nested = await client.query('SELECT ssn FROM users_view_nested WHERE name = $1', [BOB.name]);
        assert.deepEqual(nested.rows, [{ ssn: BOB.ssn }]);
        const byFunction = await client.query('SELECT s FROM users_by_function WHERE id = 2');
        assert.deepEqual(byFunction.rows, [{ s: BOB.ssn }]);
      } finally {
        await client.end();
      }
    });

    it('reads detector-shaped values (emails, a dashed SSN, a Luhn-valid card) unmasked too', async () => {
      const client = await stack.client(piiReader);
      try {
        const users = await client.query('SELECT email, ssn, phone FROM users ORDER BY id');
        assert.deepEqual(users.rows, [ALICE, BOB].map((u) => ({ email: u.email, ssn: u.ssn, phone: u.phone })));
        const cards = await client.query('SELECT card_number FROM customers ORDER BY id');
        assert.deepEqual(cards.rows.map((row) => row.card_number), CUSTOMERS.map((c) => c.card));
      } finally {
        await client.end();
      }
    });

    it('gets the same seeded values out of COPY', async () => {
      const outcome = await run(stack, piiReader, { name: 'copy', sql: 'COPY (SELECT ssn, phone FROM users WHERE id = 2) TO STDOUT', via: 'raw' });
      assert.equal(outcome.error, undefined);
      assert.ok(outcome.received.toString('utf8').includes(`${BOB.ssn}\t${BOB.phone}`));
    });
  });

});

/** Fragments of seeded sensitive values found in `received`, each with a little context. */
function leaks(received: Buffer): string[] {
  const text = received.toString('latin1').toLowerCase();
  const found: string[] = [];
  for (const fragment of FRAGMENTS) {
    const at = text.indexOf(fragment);
    if (at !== -1) found.push(`${fragment} in …${JSON.stringify(text.slice(Math.max(0, at - 20), at + fragment.length + 20))}…`);
  }
  return found;
}

/**
 * Runs one case on a fresh session (so a case that slipped through cannot change the next one's
 * session); `started` is called with the server log's size once the session is set up.
 */
async function run(stack: PepStack, token: string, testCase: RefusedCase | ReadCase, started: (logOffset: number) => void = () => undefined): Promise<Outcome> {
  const logSize = (): number => upstreamLogOffset(stack.pg);
  switch (testCase.via) {
    case 'psql': {
      started(logSize());
      const result = await stack.psql(token, `\\set ON_ERROR_STOP on\n\\set VERBOSITY verbose\n${testCase.sql}\n`, ['-A']);
      const received = Buffer.from(result.stdout + result.stderr, 'utf8');
      const code = /ERROR:\s+([0-9A-Z]{5}):/.exec(result.stderr)?.[1];
      return { received, completed: result.code === 0, ...(code ? { error: { code, message: result.stderr } } : {}) };
    }
    case 'raw':
      return runRaw(stack, token, testCase.sql, () => started(logSize()));
    default: {
      const chunks: Buffer[] = [];
      const socket = new Socket();
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const client = await stack.client(token, { stream: () => socket });
      try {
        if ('setup' in testCase && testCase.setup) await client.query(testCase.setup).catch(() => undefined);
        chunks.length = 0;
        started(logSize());
        const query: pg.QueryConfig = { text: testCase.sql, ...(testCase.values ? { values: [...testCase.values] } : {}) };
        if (testCase.via !== 'simple') Object.assign(query, { queryMode: 'extended', binary: testCase.via === 'extended-binary' });
        try {
          const result = await client.query(query);
          const results = Array.isArray(result) ? (result as pg.QueryResult[]) : [result];
          return { received: Buffer.concat(chunks), completed: results.some((r) => r.rows.length > 0) };
        } catch (error) {
          const { code, message } = error as pg.DatabaseError;
          return { received: Buffer.concat(chunks), completed: false, error: { code: code ?? '', message } };
        }
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }
}

/** A simple Query on the wire, reading everything up to ReadyForQuery (COPY data included). */
async function runRaw(stack: PepStack, token: string, sql: string, started: () => void): Promise<Outcome> {
  const client = await RawClient.login(stack.port, token);
  try {
    started();
    client.send(new MessageBuilder().cstring(sql).build('Q'));
    const bodies: Buffer[] = [];
    let error: Outcome['error'];
    let completed = false;
    for (;;) {
      const message = await client.next();
      bodies.push(message.body);
      if (message.type === 0x47) client.send(new MessageBuilder().cstring('bypass corpus sends no data').build('f')); // CopyInResponse
      if (message.type === 0x43) completed = true; // CommandComplete
      if (message.type === 0x45) {
        const fields = decodeNoticeFields(message.body);
        error ??= { code: fields.get('C') ?? '', message: fields.get('M') ?? '' };
      }
      if (message.type === 0x5a) break; // ReadyForQuery
    }
    return { received: Buffer.concat(bodies), completed, ...(error ? { error } : {}) };
  } finally {
    client.destroy();
  }
}
