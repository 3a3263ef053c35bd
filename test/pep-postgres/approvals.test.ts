import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { startPepStack, type PepStack } from './pep-stack.ts';

// orders-db is production in the starter policy: every write waits for one approver.
describe('approvals through the Postgres PEP', () => {
  let stack: PepStack;
  let agent: string;
  let approver: string;

  before(async () => {
    stack = await startPepStack({ resource: 'orders-db' });
    agent = await stack.token('agent-writer', ['writer']);
    approver = await stack.consoleToken('alice', ['approver']);
  });
  after(() => stack?.close());

  const heldStatement = async (client: pg.Client, sql: string): Promise<{ result: Promise<pg.QueryResult>; approvalId: string; notice: string }> => {
    const notice = new Promise<string>((resolve) => client.once('notice', (message) => resolve(message.message ?? '')));
    const result = client.query(sql);
    result.catch(() => undefined);
    const text = await notice;
    const approvalId = /approval ([0-9a-f-]{36})/.exec(text)?.[1];
    assert.ok(approvalId, `the notice names the approval: ${text}`);
    return { result, approvalId, notice: text };
  };

  const vote = async (approvalId: string, verdict: 'approve' | 'deny', reason: string): Promise<void> => {
    const response = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict, reason }),
    });
    assert.equal(response.status, 200, await response.text());
  };

  it('holds a write with a notice, and runs it once an approver approves', async () => {
    const client = await stack.client(agent);
    const { result, approvalId, notice } = await heldStatement(client, 'UPDATE orders SET qty = 99 WHERE id = 1');
    assert.match(notice, /approval required/);
    assert.equal((await stack.pg.sql('SELECT qty FROM orders WHERE id = 1')).trim(), '1', 'nothing ran while held');
    await vote(approvalId, 'approve', 'ticket 42');
    assert.equal((await result).rowCount, 1);
    assert.equal((await stack.pg.sql('SELECT qty FROM orders WHERE id = 1')).trim(), '99');
  });

  it('refuses a held write that an approver denies, and the session goes on', async () => {
    const client = await stack.client(agent);
    const { result, approvalId } = await heldStatement(client, 'UPDATE orders SET qty = 0 WHERE id = 2');
    await vote(approvalId, 'deny', 'not during the freeze');
    await assert.rejects(result, (error: pg.DatabaseError) => {
      assert.equal(error.code, '42501');
      assert.match(error.message, /approval-denied/);
      return true;
    });
    assert.equal((await stack.pg.sql('SELECT qty FROM orders WHERE id = 2')).trim(), '2');
    assert.deepEqual((await client.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
  });

  it('stops waiting when the client cancels, with 57014', async () => {
    const client = await stack.client(agent);
    const { result } = await heldStatement(client, 'UPDATE orders SET qty = 0 WHERE id = 3');
    const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
    await sendCancel(stack.port, processID, secretKey);
    await assert.rejects(result, { code: '57014' });
    assert.equal((await stack.pg.sql('SELECT qty FROM orders WHERE id = 3')).trim(), '3');
    assert.deepEqual((await client.query('SELECT 2 AS two')).rows, [{ two: 2 }]);
  });

  it('closes the upstream session when the client goes away during the wait', async () => {
    const client = await stack.client(agent);
    await heldStatement(client, 'UPDATE orders SET qty = 0 WHERE id = 4');
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    assert.equal(await stack.upstreamBackendsSettle(3), 3, 'only the three clients still open hold upstream sessions');
    assert.equal((await stack.pg.sql('SELECT qty FROM orders WHERE id = 4')).trim(), '4');
  });
});

function sendCancel(port: number, processId: number, secret: number): Promise<void> {
  return new Promise((resolve) => {
    const packet = new MessageBuilder().int32(80877102).int32(processId).int32(secret).build();
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(packet));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
  });
}
