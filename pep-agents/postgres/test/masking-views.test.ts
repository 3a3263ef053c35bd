/**
 * Views through the masker, against a real PostgreSQL: the catalog's view definitions
 * (pg_get_viewdef, pg_depend), their lineage through the PDP's own analyzer, and the rows a view
 * returns masked by the base columns each of its columns comes from. What cannot be traced is
 * redacted whole, as every view column was before views were traced.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SqlOutputsAnalyzer, SqlOutputsResult } from '../src/masking/sql-outputs-client.ts';
import type pg from 'pg';
import { selectOutputs } from '@portcullis/pdp';
import { createSqlAnalyzer } from '@portcullis/pdp';
import { PortcullisError } from '@portcullis/pdp';
import { PgViewDefinitions } from '../src/masking/pg-view-definitions.ts';
import { ViewLineageResolver } from '../src/masking/view-lineage-resolver.ts';
import { maskerFor, SEED, startSeededServer, survivors, textRows, throughMasker, type MaskerSetup, type SeededServer } from './masking-fixtures.ts';
import type { BackendMessage } from './masking-wire.ts';

/** POST /v1/sql/outputs, answered in process by the same code the PDP runs. */
async function inProcessAnalyzer(): Promise<SqlOutputsAnalyzer & { calls: number; failing: boolean }> {
  const analyzer = await createSqlAnalyzer();
  const pdp = {
    calls: 0,
    failing: false,
    async outputsOf(sql: string): Promise<SqlOutputsResult> {
      pdp.calls += 1;
      if (pdp.failing) return { kind: 'unavailable', code: 'pdp-error', detail: 'the PDP answered 500' };
      try {
        const { outputs, functions } = selectOutputs(analyzer, sql);
        return { kind: 'analyzed', outputs: JSON.parse(JSON.stringify(outputs)) as unknown[], functions };
      } catch (error) {
        if (error instanceof PortcullisError) return { kind: 'refused', message: error.message };
        throw error;
      }
    },
  };
  return pdp;
}

describe('views through the masker, traced to their base columns', () => {
  let server: SeededServer;
  let admin: pg.Client;
  let pdp: Awaited<ReturnType<typeof inProcessAnalyzer>>;
  let definitions: PgViewDefinitions;
  let traced: MaskerSetup;
  let oidOf: (name: string) => Promise<number>;

  before(async () => {
    server = await startSeededServer();
    admin = server.admin;
    await admin.query(`
      CREATE VIEW users_v AS SELECT id, name, email, ssn, notes FROM users;
      CREATE SCHEMA reporting;
      CREATE VIEW reporting.contacts AS SELECT v.name AS who, upper(v.email) AS mail, u.phone FROM users_v v JOIN users u USING (id);
      CREATE MATERIALIZED VIEW users_mv AS SELECT name, email, salary FROM users;
      CREATE FUNCTION secret_of(uid int) RETURNS text LANGUAGE sql STABLE AS $$SELECT secret FROM users WHERE id = uid$$;
      CREATE VIEW with_function AS SELECT id, name, secret_of(id) AS s FROM users;
      CREATE VIEW with_xml AS SELECT name, table_to_xml('users'::regclass, true, false, '') AS x FROM users;
    `);
    oidOf = async (name) => Number((await admin.query('SELECT $1::regclass::oid::int8 AS oid', [name])).rows[0].oid);
    pdp = await inProcessAnalyzer();
    definitions = new PgViewDefinitions(server.catalogConnection);
    traced = { ...server.setup, opaqueRelations: 'trace', views: new ViewLineageResolver(definitions, pdp) };
  });
  after(async () => {
    await server?.stop();
  });

  async function rows(sql: string, setup: MaskerSetup = traced): Promise<{ rows: Array<Array<string | null>>; messages: BackendMessage[] }> {
    const masker = await maskerFor(sql, setup);
    const messages = await throughMasker(await server.wire.simpleQuery(sql), masker);
    return { rows: textRows(messages), messages };
  }

  describe('the catalog side (PgViewDefinitions)', () => {
    it('reads a view: its SQL, its columns, and the relations it was bound to', async () => {
      const view = await definitions.definitionOf(await oidOf('reporting.contacts'));
      assert.ok(view);
      assert.equal(`${view.schema}.${view.name}`, 'reporting.contacts');
      assert.equal(view.kind, 'v');
      assert.deepEqual(view.columns.map((column) => column.name), ['who', 'mail', 'phone']);
      assert.deepEqual(view.dependencies.map((d) => `${d.schema}.${d.name}:${d.kind}`).sort(), ['public.users:r', 'public.users_v:v']);
      assert.equal(view.callsUserCode, false);
      assert.match(view.sql, /upper\(v\.email\) AS mail/);
    });

    it('reads a materialized view the same way, and says when a view calls code that is not built in', async () => {
      const mv = await definitions.definitionOf(await oidOf('users_mv'));
      assert.equal(mv?.kind, 'm');
      assert.deepEqual(mv?.columns.map((column) => column.name), ['name', 'email', 'salary']);
      assert.equal((await definitions.definitionOf(await oidOf('with_function')))?.callsUserCode, true);
      assert.equal((await definitions.definitionOf(await oidOf('with_xml')))?.callsUserCode, false, 'a built-in function is never recorded');
      assert.equal(await definitions.definitionOf(await oidOf('users')), undefined, 'a table is no view');
    });

    it('finds views by name in any schema', async () => {
      const found = await definitions.viewsNamed(['contacts', 'users_mv', 'users']);
      assert.deepEqual([...found.keys()].sort(), ['contacts', 'users_mv']);
    });
  });

  describe('rows of a view', () => {
    it('shows a non-sensitive column in clear and masks a sensitive one with its strategy, with SELECT * and aliases', async () => {
      const star = await rows('SELECT * FROM users_v ORDER BY id');
      assert.deepEqual(star.rows, [
        ['1', 'Jane Doe', '****@example.com', '****', 'prefers mail'],
        ['2', 'Bob Roe', '****@example.org', '****', 'reach him at <EMAIL_ADDRESS> or <US_SSN>'],
      ]);
      const aliased = await rows('SELECT v.name AS who, v.email AS contact FROM users_v AS v ORDER BY v.id');
      assert.deepEqual(aliased.rows, [['Jane Doe', '****@example.com'], ['Bob Roe', '****@example.org']]);
    });

    it('masks a value computed from a view column (the server gives it no table) by the base column', async () => {
      const { rows: upper } = await rows("SELECT upper(email), ssn || '' AS s, length(name) FROM users_v ORDER BY id");
      assert.deepEqual(upper, [['****@EXAMPLE.COM', '****', '8'], ['****@EXAMPLE.ORG', '****', '7']]);
    });

    it('masks a view over a view, and a materialized view', async () => {
      await admin.query('REFRESH MATERIALIZED VIEW users_mv');
      const nested = await rows('SELECT * FROM reporting.contacts ORDER BY who');
      assert.deepEqual(nested.rows, [['Bob Roe', '****@EXAMPLE.ORG', '(***) ***-0199'], ['Jane Doe', '****@EXAMPLE.COM', '+* ***-***-0123']]);
      const mv = await rows('SELECT * FROM users_mv ORDER BY name');
      assert.deepEqual(mv.rows, [['Bob Roe', '****@example.org', '0'], ['Jane Doe', '****@example.com', '0']]);
      assert.deepEqual(survivors([...nested.messages, ...mv.messages]), []);
    });

    it('redacts whole a view calling a function that is not built in, or one that reads a table by name', async () => {
      const fn = await rows('SELECT * FROM with_function ORDER BY id');
      assert.deepEqual(fn.rows, [['0', '****', '****'], ['0', '****', '****']]);
      const xml = await rows('SELECT name, x FROM with_xml');
      assert.ok(xml.rows.every((row) => row.every((cell) => cell === '****')));
      assert.deepEqual(survivors([...fn.messages, ...xml.messages]), []);
    });

    it('redacts whole when the PDP cannot analyze the definition, and traces once it can', async () => {
      const resolver = new ViewLineageResolver(definitions, pdp);
      const setup = { ...traced, views: resolver };
      pdp.failing = true;
      try {
        assert.deepEqual((await rows('SELECT name, email FROM users_v ORDER BY id', setup)).rows, [['****', '****'], ['****', '****']]);
      } finally {
        pdp.failing = false;
      }
      assert.deepEqual((await rows('SELECT name, email FROM users_v ORDER BY id', setup)).rows, [['Jane Doe', '****@example.com'], ['Bob Roe', '****@example.org']]);
    });

    it('redacts every view column when views are not traced (obligations that do not name every sensitive column)', async () => {
      const { rows: redacted } = await rows('SELECT name, upper(email) FROM users_v ORDER BY id', { ...traced, opaqueRelations: 'redact', obligations: [] });
      assert.deepEqual(redacted, [['****', '****'], ['****', '****']]);
    });

    it('shows everything to a principal who reads unmasked', async () => {
      const { rows: clear } = await rows('SELECT name, email FROM users_v WHERE id = 1', { ...traced, opaqueRelations: 'show', obligations: [], scrubber: null });
      assert.deepEqual(clear, [['Jane Doe', SEED[0].email]]);
    });

    it('masks COPY rows of a view by the same lineage', async () => {
      const sql = 'COPY (SELECT * FROM users_v ORDER BY id) TO STDOUT';
      const messages = await throughMasker(await server.wire.simpleQuery(sql), await maskerFor(sql, traced));
      const text = Buffer.concat(messages.filter((m) => m.type === 'd').map((m) => m.body)).toString('utf8');
      assert.equal(text.split('\n')[0], '1\tJane Doe\t****@example.com\t****\tprefers mail');
      assert.deepEqual(survivors(messages), []);
    });
  });
});
