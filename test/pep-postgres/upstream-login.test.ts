import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadPepPostgresConfig } from '@portcullis/pep-postgres/testing';
import { startPostgresPep, type RunningPostgresPep } from '@portcullis/pep-postgres';
import { startPepStack, UPSTREAM_USER, type PepStack } from './pep-stack.ts';
import { loginNameOf } from './raw-client.ts';

describe('the Postgres PEP\'s own login on the server', () => {
  let stack: PepStack;
  let wrong: RunningPostgresPep;
  const logs: string[] = [];
  const wrongPassword = 'definitely-not-the-password';

  before(async () => {
    stack = await startPepStack();
    const env = {
      PORTCULLIS_PEP_LISTEN_PORT: '0',
      PORTCULLIS_PEP_UPSTREAM_PORT: String(stack.pg.port),
      PORTCULLIS_PEP_UPSTREAM_USER: UPSTREAM_USER,
      PORTCULLIS_PEP_UPSTREAM_PASSWORD: wrongPassword,
      PORTCULLIS_PEP_PDP_URL: stack.pdp.url,
      PORTCULLIS_PEP_TOKEN: stack.pdp.pepToken,
      PORTCULLIS_PEP_RESOURCE_NAME: 'analytics-db',
    };
    wrong = await startPostgresPep(loadPepPostgresConfig(env), { env, log: (message) => logs.push(message) });
  });
  after(async () => {
    await wrong?.close();
    await stack?.close();
  });

  it('logs in with SCRAM-SHA-256 using the configured password, never the client\'s token', async () => {
    const client = await stack.client(await stack.token('agent-login', ['reader']));
    const who = await client.query('SELECT current_user AS role');
    assert.equal(who.rows[0].role, UPSTREAM_USER);
    const auth = await stack.pg.sql(`SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = '${UPSTREAM_USER}'`);
    assert.equal(auth.trim(), 't', 'the server holds a SCRAM verifier, and pg_hba asks for SCRAM');
  });

  it('tells the client the database refused the PEP, and never shows or logs the password', async () => {
    const token = await stack.token('agent-login', ['reader']);
    const client = new pg.Client({ host: '127.0.0.1', port: wrong.port, user: loginNameOf(token), database: 'analytics', password: token });
    await assert.rejects(client.connect(), (error: pg.DatabaseError) => {
      assert.equal(error.code, '08006');
      assert.match(error.message, /the database refused the PEP's session: password authentication failed/);
      assert.doesNotMatch(error.message, new RegExp(wrongPassword));
      return true;
    });
    assert.ok(logs.some((line) => /password authentication failed/.test(line)));
    assert.ok(logs.every((line) => !line.includes(wrongPassword) && !line.includes(token)));
  });
});
