import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe as suite, it } from 'node:test';
import pg from 'pg';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { describe, msg, RawClient } from './raw-client.ts';
import { eventually } from '../support/eventually.ts';

// pg_sleep is a forbidden function in the starter policy; a lock wait is a statement that runs
// until cancelled, without one.
suite('cancelling statements through the Postgres PEP', () => {
  let stack: PepStack;
  let token: string;
  let owner: pg.Client;

  before(async () => {
    stack = await startPepStack();
    token = await stack.token('agent-cancel', ['reader']);
    owner = new pg.Client({ host: '127.0.0.1', port: stack.pg.port, user: 'postgres', password: stack.pg.superuserPassword, database: 'postgres' });
    await owner.connect();
  });
  after(async () => {
    await owner?.end();
    await stack?.close();
  });

  const holdLock = async (): Promise<void> => {
    await owner.query('BEGIN');
    await owner.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
  };
  const releaseLock = (): Promise<unknown> => owner.query('ROLLBACK');
  const waitingOnLock = async (): Promise<void> => {
    await eventually('the statement waits on the lock', async () =>
      (await stack.pg.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'portcullis_app' AND wait_event_type = 'Lock'")).trim() === '1', { intervalMs: 100 });
  };

  it('cancels a running statement when psql is interrupted (Ctrl-C sends CancelRequest)', async () => {
    await holdLock();
    try {
      const psql = stack.spawnPsql(token, ['-c', 'SELECT count(*) FROM orders']);
      let stderr = '';
      psql.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => psql.on('exit', (code) => resolve(code)));
      await waitingOnLock();
      psql.kill('SIGINT');
      assert.equal(await exited, 1);
      assert.match(stderr, /canceling statement due to user request/);
    } finally {
      await releaseLock();
    }
  });

  it('ignores a CancelRequest with the wrong secret and honours the right one', async () => {
    const client = await RawClient.login(stack.port, token);
    const key = client.backendKey!;
    await holdLock();
    try {
      client.send(msg.query('SELECT count(*) FROM orders'));
      await waitingOnLock();
      // The PEP closes a cancel connection once it has acted on it (passed it on, or not).
      await sendCancel(stack.port, key.processId, Buffer.from(key.secretKey.map((byte) => byte ^ 0xff)));
      assert.equal((await stack.pg.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'portcullis_app' AND wait_event_type = 'Lock'")).trim(), '1', 'still waiting');
      await sendCancel(stack.port, key.processId, key.secretKey);
      assert.deepEqual((await client.untilReady()).map(describe), ['E 57014', 'Z I']);
    } finally {
      await releaseLock();
    }
    client.send(msg.query('SELECT 1'));
    assert.deepEqual((await client.untilReady()).map(describe), ['T', 'D', 'C SELECT 1', 'Z I']);
    client.destroy();
  });

  it('hands out its own cancel keys, never the server backend\'s', async () => {
    const client = await RawClient.login(stack.port, token);
    client.send(msg.query('SELECT pg_backend_pid()'));
    const answer = await client.untilReady();
    const dataRow = answer.find((message) => message.type === 0x44)!;
    const backendPid = Number(dataRow.body.toString('utf8', 6));
    assert.notEqual(client.backendKey!.processId, backendPid);
    client.destroy();
  });
});

function sendCancel(port: number, processId: number, secretKey: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(new MessageBuilder().int32(80877102).int32(processId).bytes(secretKey).build()));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
  });
}
