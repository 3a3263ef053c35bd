// The login name means who the session acts as: the token's subject, or a database role that
// policy data (login_names) maps one of the principal's roles to. Any other name is refused at
// login with 28000, as PostgreSQL refuses a role that does not exist.
import assert from 'node:assert/strict';
import { after, before, describe as suite, it } from 'node:test';
import pg from 'pg';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { decodeNoticeFields } from '@portcullis/pep-postgres/testing';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { RawClient, startupPacket } from './raw-client.ts';

suite('the login name through the Postgres PEP', () => {
  let stack: PepStack;
  let reader: string;
  let writer: string;

  before(async () => {
    stack = await startPepStack({ resource: 'analytics-db' });
    reader = await stack.token('agent-login-reader', ['reader']);
    writer = await stack.token('agent-login-writer', ['writer']);
  });
  after(() => stack?.close());

  const login = async (user: string, token: string): Promise<pg.Client | pg.DatabaseError> => {
    const client = new pg.Client({ host: '127.0.0.1', port: stack.port, user, database: 'analytics', password: token });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (error) {
      return error as pg.DatabaseError;
    }
  };

  for (const user of ['asldkfjsadlfkj', 'postgres', 'portcullis_app', 'agent-login-writer', 'Agent-Login-Reader', 'agent-login-reader ', 'app']) {
    it(`refuses the reader logging in as ${JSON.stringify(user)} with 28000`, async () => {
      const outcome = await login(user, reader);
      assert.ok(outcome instanceof Error, 'refused');
      assert.equal(outcome.code, '28000');
      assert.equal(outcome.severity, 'FATAL');
      assert.match(outcome.message, /is not one this token may log in as/);
      assert.match(outcome.detail ?? '', /login-name-unknown/);
    });
  }

  it("lets a principal log in as its own subject, and as a database role policy maps its role to", async () => {
    for (const [user, token] of [['agent-login-reader', reader], ['reporting', reader], ['agent-login-writer', writer], ['app', writer]] as const) {
      const outcome = await login(user, token);
      assert.ok(!(outcome instanceof Error), `${user}: ${String(outcome)}`);
      assert.deepEqual((await outcome.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
      await outcome.end();
    }
  });

  it('refuses psql logging in under a name that names nobody, and says so', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = stack.spawnPsql(reader, ['-c', 'SELECT 1']);
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(result.code, 0, 'its own subject works');
    const raw = await RawClient.connect(stack.port);
    raw.send(startupPacket({ user: 'asldkfjsadlfkj', database: 'analytics' }));
    await raw.next();
    raw.send(new MessageBuilder().cstring(reader).build('p'));
    const messages = await raw.closed();
    const fatal = messages.map((message) => decodeNoticeFields(message.body)).find((fields) => fields.get('S') === 'FATAL');
    assert.equal(fatal?.get('C'), '28000');
    assert.ok(!messages.some((message) => message.type === 0x5a), 'never ready for a query');
    assert.equal(await stack.upstreamBackendsSettle(0), 0, 'no upstream session was opened');
  });
});
