/**
 * Settings the PDP's parser depends on and side effects through SELECT, end to end: the real
 * PDP and starter policy, the Postgres PEP and PostgreSQL, on a staging resource where a writer's
 * writes are allowed. Refusals must never reach the server; what is allowed must do what it says.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { startPepStack, type PepStack } from './pep-stack.ts';

const SSN = '518204937';

const SEED = `
  CREATE TABLE users (id int PRIMARY KEY, name text, email text, ssn text, phone text);
  INSERT INTO users VALUES (1, 'Bob Quietly', 'b.k7xvane@example.net', '${SSN}', '4155550199');
  CREATE FUNCTION archive_order(order_id int) RETURNS int LANGUAGE sql AS $$DELETE FROM orders WHERE id = order_id RETURNING id$$;
`;

interface Failure {
  readonly code: string;
  readonly message: string;
}

async function refusal(client: pg.Client, sql: string): Promise<Failure> {
  try {
    await client.query(sql);
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return { code: code ?? '', message };
  }
  assert.fail(`expected a refusal of ${sql}`);
}

describe('SQL policy routes through the Postgres PEP (analytics-db, staging)', () => {
  let stack: PepStack;
  let writerAgent: string;
  let dbaHuman: string;
  let readerAgent: string;
  let writerHuman: string;

  before(async () => {
    stack = await startPepStack({ resource: 'analytics-db', seed: SEED });
    writerAgent = await stack.token('agent-routes-writer', ['writer']);
    dbaHuman = await stack.token('human-routes-dba', ['dba'], 'human');
    readerAgent = await stack.token('agent-routes-reader', ['reader']);
    writerHuman = await stack.token('human-routes-writer', ['writer'], 'human');
  });
  after(async () => {
    await stack?.close();
  });

  const orderExists = async (id: number): Promise<boolean> => (await stack.pg.sql(`SELECT count(*) FROM orders WHERE id = ${id}`)).trim() === '1';

  describe('parser-sensitive settings, by any route, for every role', () => {
    it('refuses UPDATE pg_settings to a writer, and the smuggled statements after it stay one harmless SELECT', async () => {
      const client = await stack.client(writerAgent);
      try {
        const refused = await refusal(client, "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'");
        assert.equal(refused.code, '42501', refused.message);
        assert.match(refused.message, /pg_settings/);
        const shown = await client.query('SHOW standard_conforming_strings');
        assert.equal(shown.rows[0].standard_conforming_strings, 'on');
        const countBefore = (await stack.pg.sql('SELECT count(*) FROM orders')).trim();
        const smuggled = await client.query("SELECT 'a\\', ' ; CREATE TABLE pwned(x int); DELETE FROM orders; -- ' AS s");
        assert.equal(smuggled.rows.length, 1);
        assert.equal((await stack.pg.sql("SELECT count(*) FROM pg_class WHERE relname = 'pwned'")).trim(), '0');
        assert.equal((await stack.pg.sql('SELECT count(*) FROM orders')).trim(), countBefore);
      } finally {
        await client.end();
      }
    });

    it('refuses a pg_settings write computed from a sensitive column, so SHOW cannot read it back', async () => {
      const client = await stack.client(writerAgent);
      try {
        for (const sql of [
          `UPDATE pg_settings SET setting = (SELECT ssn FROM users WHERE id = 1) WHERE name = 'application_name'`,
          `WITH u AS (UPDATE pg_catalog.pg_settings SET setting = (SELECT ssn FROM users WHERE id = 1) WHERE name = 'application_name' RETURNING name) SELECT * FROM u`,
          `SELECT set_config('application_name', (SELECT ssn FROM users WHERE id = 1), false)`,
        ]) {
          const refused = await refusal(client, sql);
          assert.equal(refused.code, '42501', `${sql}: ${refused.message}`);
        }
        const shown = await client.query('SHOW application_name');
        assert.ok(!JSON.stringify(shown.rows).includes(SSN), 'the SSN never became a setting');
      } finally {
        await client.end();
      }
    });

    it('refuses every other route to a human dba, and the session keeps the values the parser assumes', async () => {
      const client = await stack.client(dbaHuman);
      try {
        for (const sql of [
          "SET client_encoding = 'SJIS'",
          "SET NAMES 'GBK'",
          'SET LOCAL standard_conforming_strings TO off',
          'SET standard_conforming_strings TO DEFAULT',
          'RESET client_encoding',
          "SET backslash_quote = 'on'",
          "SELECT set_config('standard_conforming_strings', 'off', false)",
          "WITH a AS (SELECT set_config('client_' || 'encoding', 'SJIS', false)) SELECT * FROM a",
          "SELECT length(set_config(name, 'off', false)) FROM pg_settings WHERE name = 'standard_conforming_strings'",
          "ALTER ROLE CURRENT_USER SET standard_conforming_strings = off",
          "ALTER DATABASE analytics SET client_encoding = 'SJIS'",
          'ALTER SYSTEM SET standard_conforming_strings = off',
          "ALTER SYSTEM SET log_statement = 'none'",
          "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql SET standard_conforming_strings = off AS 'SELECT 1'",
          "CREATE FUNCTION sneaky2() RETURNS int LANGUAGE sql SET client_encoding FROM CURRENT AS 'SELECT 1'",
        ]) {
          const refused = await refusal(client, sql);
          assert.equal(refused.code, '42501', `${sql}: ${refused.message}`);
        }
        const settings = await client.query("SELECT current_setting('standard_conforming_strings') AS scs, current_setting('client_encoding') AS enc");
        assert.deepEqual(settings.rows, [{ scs: 'on', enc: 'UTF8' }]);
        assert.equal((await stack.pg.sql("SELECT count(*) FROM pg_proc WHERE proname LIKE 'sneaky%'")).trim(), '0');
        assert.equal((await stack.pg.sql('SELECT count(*) FROM pg_db_role_setting')).trim(), '0');
      } finally {
        await client.end();
      }
    });

    it('lets the no-op SET client_encoding = UTF8 and RESET ALL through', async () => {
      const client = await stack.client(readerAgent);
      try {
        await client.query("SET client_encoding = 'UTF8'");
        await client.query("SET NAMES 'utf8'");
        await client.query('SET standard_conforming_strings = on');
        await client.query('RESET ALL');
        const shown = await client.query('SHOW client_encoding');
        assert.equal(shown.rows[0].client_encoding, 'UTF8');
      } finally {
        await client.end();
      }
    });
  });

  describe('side effects through SELECT', () => {
    it('a user-defined function that deletes is judged like CALL: refused to agents, even writers, and deletes nothing', async () => {
      for (const token of [readerAgent, writerAgent]) {
        const client = await stack.client(token);
        try {
          for (const sql of ['SELECT archive_order(19)', 'SELECT * FROM orders WHERE archive_order(id) = 19', 'EXPLAIN ANALYZE SELECT archive_order(19)']) {
            const refused = await refusal(client, sql);
            assert.equal(refused.code, '42501', `${sql}: ${refused.message}`);
          }
        } finally {
          await client.end();
        }
      }
      assert.equal(await orderExists(19), true, 'order 19 is still there');
    });

    it('a human writer on staging may call it (it is code, allowed where writes are)', async () => {
      const client = await stack.client(writerHuman);
      try {
        const result = await client.query('SELECT archive_order(18) AS archived');
        assert.deepEqual(result.rows, [{ archived: 18 }]);
        assert.equal(await orderExists(18), false);
      } finally {
        await client.end();
      }
    });

    it('FOR UPDATE from a reader takes no lock: a concurrent update goes through', async () => {
      const client = await stack.client(readerAgent);
      try {
        await client.query('BEGIN');
        const refused = await refusal(client, 'SELECT * FROM orders WHERE id <= 5 FOR UPDATE');
        assert.equal(refused.code, '42501', refused.message);
        // The reader's transaction is still open; were row 1 locked, this would fail on lock_timeout.
        await stack.pg.sql("SET lock_timeout = '5s'; UPDATE orders SET qty = qty WHERE id = 1");
        await client.query('ROLLBACK');
      } finally {
        await client.end();
      }
    });

    it('setval, nextval and advisory locks need write access', async () => {
      const before = (await stack.pg.sql("SELECT last_value FROM orders_id_seq")).trim();
      const client = await stack.client(readerAgent);
      try {
        for (const sql of ["SELECT setval('orders_id_seq', 1000)", "SELECT nextval('orders_id_seq')", 'SELECT pg_advisory_lock(7)', 'SELECT lo_creat(-1)', 'SELECT pg_stat_reset()']) {
          const refused = await refusal(client, sql);
          assert.equal(refused.code, '42501', `${sql}: ${refused.message}`);
        }
      } finally {
        await client.end();
      }
      assert.equal((await stack.pg.sql("SELECT last_value FROM orders_id_seq")).trim(), before);
      assert.equal((await stack.pg.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).trim(), '0');
      assert.equal((await stack.pg.sql('SELECT count(*) FROM pg_largeobject_metadata')).trim(), '0');
    });
  });
});
