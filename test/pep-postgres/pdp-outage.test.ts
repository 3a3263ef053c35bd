import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { loginNameOf } from './raw-client.ts';

describe('the Postgres PEP when no decision can be had (fail closed)', () => {
  let stack: PepStack;
  let client: pg.Client;

  before(async () => {
    stack = await startPepStack({ pepEnv: { PORTCULLIS_PEP_PDP_TIMEOUT_MS: '500', PORTCULLIS_PEP_SHUTDOWN_GRACE_SECONDS: '0' } });
    client = await stack.client(await stack.token('agent-outage', ['writer']));
    await stack.pdp.close();
  });
  after(() => stack?.close());

  it('refuses each statement of an open session with 58000 and runs nothing', async () => {
    await assert.rejects(client.query("INSERT INTO orders (item, qty) VALUES ('during-outage', 1)"), (error: pg.DatabaseError) => {
      assert.equal(error.code, '58000');
      assert.match(error.message, /no policy decision could be had, so nothing was run/);
      return true;
    });
    assert.equal((await stack.pg.sql("SELECT count(*) FROM orders WHERE item = 'during-outage'")).trim(), '0');
  });

  it('refuses new sessions with 57P03, which poolers retry later', async () => {
    const another = new pg.Client({ host: '127.0.0.1', port: stack.port, user: 'agent', database: 'analytics', password: 'irrelevant' });
    await assert.rejects(another.connect(), { code: '57P03' });
  });
});

describe('the Postgres PEP when the PDP accepts connections but never answers', () => {
  let stack: PepStack;
  let silent: Server;
  const held: Socket[] = [];

  before(async () => {
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    stack = await startPepStack({ pepEnv: { PORTCULLIS_PEP_PDP_URL: `http://127.0.0.1:${port}`, PORTCULLIS_PEP_PDP_TIMEOUT_MS: '300', PORTCULLIS_PEP_SHUTDOWN_GRACE_SECONDS: '0' } });
  });
  after(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    await stack?.close();
  });

  it('refuses the login once the decision deadline passes', async () => {
    const token = await stack.token('agent-slow', ['reader']);
    const client = new pg.Client({ host: '127.0.0.1', port: stack.port, user: loginNameOf(token), database: 'analytics', password: token });
    await assert.rejects(client.connect(), (error: pg.DatabaseError) => {
      assert.equal(error.code, '57P03');
      assert.match(error.message, /pdp-timeout/);
      return true;
    });
    assert.equal(await stack.upstreamBackendsSettle(0), 0);
  });
});
