import assert from 'node:assert/strict';
import { after, before, describe as suite, it } from 'node:test';
import pg from 'pg';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { describe, errorText, loginNameOf, msg, RawClient, startupPacket } from './raw-client.ts';
import { eventually } from '../support/eventually.ts';

suite('the Postgres PEP under bad input and abrupt disconnects', () => {
  let stack: PepStack;
  let token: string;

  before(async () => {
    stack = await startPepStack();
    token = await stack.token('agent-abuse', ['writer']);
  });
  after(() => stack?.close());

  it('closes a connection that opens with garbage without a word, as PostgreSQL does', async () => {
    const client = await RawClient.connect(stack.port);
    client.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const messages = await client.closed();
    assert.deepEqual(messages.map(describe), []);
  });

  it('closes on a start-up packet longer than 10 KiB before reading it, without a word', async () => {
    const client = await RawClient.connect(stack.port);
    const header = Buffer.alloc(8);
    header.writeInt32BE(64 * 1024, 0);
    header.writeInt32BE(196608, 4);
    client.send(header);
    assert.deepEqual((await client.closed()).map(describe), []);
  });

  it('refuses a protocol version other than 3', async () => {
    const client = await RawClient.connect(stack.port);
    client.send(new MessageBuilder().int32(2 << 16).cstring('user').cstring('x').byte(0).build());
    assert.deepEqual((await client.closed()).map(describe), ['E 0A000']);
  });

  it('answers GSSENCRequest with N and goes on with the start-up', async () => {
    const client = await RawClient.connect(stack.port);
    const answer = new Promise<Buffer>((resolve) => client.socket.once('data', resolve));
    client.send(new MessageBuilder().int32(80877104).build());
    assert.equal((await answer).toString(), 'N');
  });

  it('negotiates a newer protocol minor and unknown protocol options down to 3.0', async () => {
    const client = await RawClient.connect(stack.port);
    client.send(new MessageBuilder().int32((3 << 16) | 2).cstring('user').cstring('agent').cstring('_pq_.future_option').cstring('on').byte(0).build());
    const negotiate = await client.next();
    assert.equal(String.fromCharCode(negotiate.type), 'v');
    assert.equal(negotiate.body.readInt32BE(0), 0, 'newest minor supported');
    assert.equal(negotiate.body.readInt32BE(4), 1, 'one option not recognised');
    assert.equal(String.fromCharCode((await client.next()).type), 'R');
    client.destroy();
  });

  it('refuses a message other than the password after the password request', async () => {
    const client = await RawClient.connect(stack.port);
    client.send(startupPacket({ user: 'agent', database: 'analytics' }));
    assert.equal(String.fromCharCode((await client.next()).type), 'R');
    client.send(msg.query('SELECT 1'));
    assert.deepEqual((await client.closed()).map(describe), ['E 08P01']);
  });

  it('survives disconnects at every stage of start-up', async () => {
    const stages: Buffer[][] = [
      [],
      [Buffer.from([0, 0])],
      [startupPacket({ user: 'agent', database: 'analytics' }).subarray(0, 12)],
      [startupPacket({ user: 'agent', database: 'analytics' })],
      [startupPacket({ user: 'agent', database: 'analytics' }), new MessageBuilder().cstring(token).build('p').subarray(0, 20)],
    ];
    for (const bytes of stages) {
      const client = await RawClient.connect(stack.port);
      if (bytes.length > 0) client.send(bytes);
      await new Promise((resolve) => setTimeout(resolve, 20));
      client.destroy();
    }
    // The whole log-in sent at once and the connection dropped: the PEP is still deciding or
    // connecting upstream when the client is gone.
    for (let i = 0; i < 5; i++) {
      const client = await RawClient.connect(stack.port);
      client.socket.end(Buffer.concat([startupPacket({ user: loginNameOf(token), database: 'analytics' }), new MessageBuilder().cstring(token).build('p')]));
    }
    assert.equal(await stack.upstreamBackendsSettle(0), 0);
  });

  it('closes the session on an oversized message length and closes the upstream session too', async () => {
    const client = await RawClient.login(stack.port, token);
    assert.equal(await stack.upstreamBackends(), 1);
    const header = Buffer.alloc(5);
    header.write('Q');
    header.writeInt32BE(0x7ffffff0, 1);
    client.send(header);
    const messages = await client.closed();
    assert.deepEqual(messages.map(describe), ['E 08P01']);
    assert.match(errorText(messages[0]!), /exceeds the limit/);
    assert.equal(await stack.upstreamBackendsSettle(0), 0);
  });

  it('closes the session on an unknown message type or a malformed body', async () => {
    for (const bad of [new MessageBuilder().bytes(Buffer.from('junk')).build('z'), new MessageBuilder().bytes(Buffer.from('no terminator')).build('P')]) {
      const client = await RawClient.login(stack.port, token);
      client.send(bad);
      assert.deepEqual((await client.closed()).map(describe), ['E 08P01']);
    }
    assert.equal(await stack.upstreamBackendsSettle(0), 0);
  });

  it('closes the upstream session when a client vanishes mid-message or between statements', async () => {
    for (let i = 0; i < 10; i++) {
      const client = await RawClient.login(stack.port, token);
      if (i % 2 === 0) client.send(msg.query('SELECT 1').subarray(0, 7));
      client.destroy();
    }
    assert.equal(await stack.upstreamBackendsSettle(0), 0);
  });

  it('cancels and closes the upstream session when a client vanishes while its statement waits on a lock', async () => {
    const owner = new pg.Client({ host: '127.0.0.1', port: stack.pg.port, user: 'postgres', password: stack.pg.superuserPassword, database: 'postgres' });
    await owner.connect();
    try {
      await owner.query('BEGIN');
      await owner.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
      const client = await RawClient.login(stack.port, token);
      client.send(msg.query('SELECT count(*) FROM orders'));
      await eventually('the statement waits on the lock', async () => (await stack.pg.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'portcullis_app' AND wait_event_type = 'Lock'")).trim() === '1', { intervalMs: 100 });
      client.destroy();
      // The lock is still held: only the PEP's cancel ends the waiting backend.
      assert.equal(await stack.upstreamBackendsSettle(0), 0);
    } finally {
      await owner.query('ROLLBACK');
      await owner.end();
    }
  });

  it('still serves clients after all of that', async () => {
    const client = await stack.client(token);
    const result = await client.query('SELECT count(*)::int AS n FROM orders');
    assert.deepEqual(result.rows, [{ n: 20 }]);
    await client.end();
    assert.equal(await stack.upstreamBackendsSettle(0), 0);
  });
});
