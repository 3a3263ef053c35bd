// Whatever policy says, the PEP ends a session the moment the server reports that it reads SQL
// text otherwise than the PDP's parser assumed (standard_conforming_strings off, client_encoding
// not UTF8), and nothing sent after that runs. The policy here allows everything: it stands for a
// route policy did not catch.
import assert from 'node:assert/strict';
import { after, before, describe as suite, it } from 'node:test';
import type pg from 'pg';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { decodeNoticeFields } from '@portcullis/pep-postgres/testing';
import { allowAllBundle } from './loose-policy.ts';
import { startPepStack, UPSTREAM_USER, type PepStack } from './pep-stack.ts';
import { describe, loginNameOf, msg, RawClient, startupPacket } from './raw-client.ts';

// Under standard_conforming_strings off, the server reads three statements here; the parser one.
const SMUGGLED = "SELECT 'a\\', ' ; CREATE TABLE pwned(x int); -- '";

suite('the Postgres PEP and the settings that change how the server reads SQL', () => {
  let stack: PepStack;
  let token: string;

  before(async () => {
    stack = await startPepStack({
      pdpEnv: { PORTCULLIS_BUNDLE_FILE: allowAllBundle() },
      seed: `
        CREATE FUNCTION flip_strings() RETURNS text LANGUAGE sql AS $$ SELECT set_config('standard_conforming_strings', 'off', false) $$;
        CREATE FUNCTION flip_encoding() RETURNS text LANGUAGE plpgsql AS $$ BEGIN SET client_encoding = 'LATIN1'; RETURN 'done'; END $$;
        CREATE FUNCTION declared_off() RETURNS int LANGUAGE sql SET standard_conforming_strings = off AS $$ SELECT 1 $$;
      `,
    });
    token = await stack.token('agent-settings', ['writer']);
  });
  after(() => stack?.close());

  async function pwnedExists(): Promise<boolean> {
    return (await stack.pg.sql(`SELECT to_regclass('public.pwned') IS NOT NULL`)).trim() === 't';
  }

  async function endedFor(setting: string): Promise<void> {
    const records = await stack.pdp.auditEvents('sessions');
    assert.ok(
      records.some((record) => JSON.stringify(record).includes('parser-setting-changed')),
      `a session record names the reason (${setting})`,
    );
  }

  /** Sends `bytes` after login and returns what came back until the PEP closed the session. */
  async function rawSession(bytes: Buffer[]): Promise<{ transcript: string[]; fatal: Map<string, string> | undefined }> {
    const client = await RawClient.login(stack.port, token);
    client.send(bytes);
    const messages = await client.closed();
    const fatal = messages.filter((message) => message.type === 0x45).map((message) => decodeNoticeFields(message.body)).find((fields) => fields.get('S') === 'FATAL');
    return { transcript: messages.map(describe), fatal };
  }

  const changes: Array<[string, string]> = [
    ['SET standard_conforming_strings = off', 'standard_conforming_strings'],
    ["SET standard_conforming_strings TO 'off'", 'standard_conforming_strings'],
    ["SELECT set_config('standard_conforming_strings', 'off', false)", 'standard_conforming_strings'],
    ["UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'", 'standard_conforming_strings'],
    ['SELECT flip_strings()', 'standard_conforming_strings'],
    ["DO $$ BEGIN PERFORM set_config('standard_conforming_strings', 'off', false); END $$", 'standard_conforming_strings'],
    ["SET client_encoding = 'LATIN1'", 'client_encoding'],
    ["SET NAMES 'SJIS'", 'client_encoding'],
    ["SET client_encoding TO 'SQL_ASCII'", 'client_encoding'],
    ["SELECT set_config('client_encoding', 'BIG5', false)", 'client_encoding'],
    ['SELECT flip_encoding()', 'client_encoding'],
  ];

  for (const [sql, setting] of changes) {
    it(`ends the session when ${JSON.stringify(sql)} changes ${setting}, and a query sent right behind it never runs`, async () => {
      const { transcript, fatal } = await rawSession([msg.query(sql), msg.query(SMUGGLED)]);
      assert.ok(fatal, `a FATAL error: ${transcript.join(' ')}`);
      assert.equal(fatal.get('C'), '0A000');
      assert.match(fatal.get('M') ?? '', new RegExp(setting));
      assert.equal(transcript.at(-1), 'E 0A000', `nothing relayed after the FATAL: ${transcript.join(' ')}`);
      assert.equal(await pwnedExists(), false, 'the smuggled CREATE did not run');
      await endedFor(setting);
    });
  }

  it('ends the session inside a transaction block (SET LOCAL), before COMMIT could restore it', async () => {
    const { fatal } = await rawSession([msg.query('BEGIN; SET LOCAL standard_conforming_strings = off'), msg.query(SMUGGLED), msg.query('COMMIT')]);
    assert.equal(fatal?.get('C'), '0A000');
    assert.equal(await pwnedExists(), false);
  });

  it('ends the session when a pipeline changes the setting: the Parse after its Sync is never sent', async () => {
    const { fatal } = await rawSession([
      msg.parse('', 'SELECT flip_strings()'),
      msg.bind('', ''),
      msg.execute(''),
      msg.sync(),
      msg.parse('', SMUGGLED),
      msg.bind('', ''),
      msg.execute(''),
      msg.sync(),
    ]);
    assert.equal(fatal?.get('C'), '0A000');
    assert.equal(await pwnedExists(), false);
  });

  it('lets a function declared with SET standard_conforming_strings run: the server restores it before reporting', async () => {
    const client = await stack.client(token);
    assert.deepEqual((await client.query('SELECT declared_off() AS one')).rows, [{ one: 1 }]);
    assert.deepEqual((await client.query('SHOW standard_conforming_strings')).rows, [{ standard_conforming_strings: 'on' }]);
    await client.end();
  });

  it('ends a node-postgres session: the query in flight fails with the FATAL, the next one cannot run', async () => {
    const client = await stack.client(token);
    const error = await client.query('SET standard_conforming_strings = off').catch((failure: pg.DatabaseError) => failure);
    assert.ok(error instanceof Error);
    assert.equal((error as pg.DatabaseError).code, '0A000');
    await assert.rejects(client.query('SELECT 1'));
  });

  it('ends a psql session, and psql says why', async () => {
    const result = await stack.psql(token, `SET client_encoding = 'LATIN1';\nCREATE TABLE pwned(x int);\n`);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /client_encoding/);
    assert.equal(await pwnedExists(), false);
  });

  const loginDefaults: Array<[string, string, string]> = [
    ['ALTER ROLE portcullis_app SET standard_conforming_strings = off', 'ALTER ROLE portcullis_app RESET standard_conforming_strings', 'standard_conforming_strings'],
    ['ALTER ROLE portcullis_app IN DATABASE postgres SET standard_conforming_strings = off', 'ALTER ROLE portcullis_app IN DATABASE postgres RESET standard_conforming_strings', 'standard_conforming_strings'],
    ["ALTER ROLE portcullis_app SET client_encoding = 'LATIN1'", 'ALTER ROLE portcullis_app RESET client_encoding', 'client_encoding'],
  ];
  for (const [set, reset, setting] of loginDefaults) {
    it(`refuses a login when the server's session starts with ${setting} changed (${set})`, async () => {
      await stack.pg.sql(set.replace('portcullis_app', UPSTREAM_USER));
      try {
        const psql = await stack.psql(token, 'SELECT 1;\n');
        assert.notEqual(psql.code, 0);
        assert.match(psql.stderr, new RegExp(`${setting}`));
        const raw = await RawClient.connect(stack.port);
        raw.send(startupPacket({ user: loginNameOf(token), database: 'analytics' }));
        await raw.next();
        raw.send(new MessageBuilder().cstring(token).build('p'));
        const messages = await raw.closed();
        const fatal = messages.map((message) => decodeNoticeFields(message.body)).find((fields) => fields.get('S') === 'FATAL');
        assert.equal(fatal?.get('C'), '0A000');
        assert.ok(!messages.some((message) => message.type === 0x5a), 'never ready for a query');
        await endedFor(setting);
      } finally {
        await stack.pg.sql(reset.replace('portcullis_app', UPSTREAM_USER));
      }
    });
  }

  const startups: Array<[Record<string, string>, string]> = [
    [{ options: '-c standard_conforming_strings=off' }, '0A000'],
    [{ options: '--client_encoding=SJIS' }, '0A000'],
    [{ standard_conforming_strings: 'off' }, '0A000'],
    [{ Standard_Conforming_Strings: 'off' }, '0A000'],
    [{ client_encoding: 'SJIS' }, '22023'],
    [{ client_encoding: 'LATIN1' }, '22023'],
    [{ client_encoding: 'sql_ascii' }, '22023'],
    [{ CLIENT_ENCODING: 'big5' }, '22023'],
    [{ search_path: 'evil' }, '0A000'],
  ];
  for (const [parameters, code] of startups) {
    it(`refuses the start-up parameters ${JSON.stringify(parameters)} with ${code}`, async () => {
      const raw = await RawClient.connect(stack.port);
      raw.send(startupPacket({ user: 'agent', database: 'analytics', ...parameters }));
      assert.deepEqual((await raw.closed()).map(describe), [`E ${code}`]);
    });
  }

  for (const encoding of ['UTF8', 'utf-8', 'Unicode']) {
    it(`accepts client_encoding ${encoding} at start-up`, async () => {
      const client = await stack.client(token, { client_encoding: encoding } as pg.ClientConfig);
      assert.deepEqual((await client.query('SHOW client_encoding')).rows, [{ client_encoding: 'UTF8' }]);
      await client.end();
    });
  }
});
