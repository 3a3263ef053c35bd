// A client that stopped waiting for an approval runs the statement again once it was granted:
// through the Postgres PEP, the PDP finds the approval by its binding and the statement runs, once.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { startPepStack, type PepStack } from './pep-stack.ts';

describe('re-running a statement after its approval was granted, through the Postgres PEP (node-postgres)', () => {
  let stack: PepStack;
  let agent: string;
  let approver: string;

  before(async () => {
    stack = await startPepStack({ resource: 'orders-db' });
    agent = await stack.token('agent-writer', ['writer']);
    approver = await stack.consoleToken('alice', ['approver']);
  });
  after(() => stack?.close());

  /** Runs `sql` and resolves once the PEP's notice names the approval it waits for. */
  const held = async (client: pg.Client, sql: string): Promise<{ result: Promise<pg.QueryResult>; approvalId: string }> => {
    const notice = new Promise<string>((resolve) => client.once('notice', (message) => resolve(message.message ?? '')));
    const result = client.query(sql);
    result.catch(() => undefined);
    const approvalId = /approval ([0-9a-f-]{36})/.exec(await notice)?.[1];
    assert.ok(approvalId, 'the notice names the approval');
    return { result, approvalId };
  };

  const qty = async (id: number): Promise<string> => (await stack.pg.sql(`SELECT qty FROM orders WHERE id = ${id}`)).trim();

  it('the client cancels the wait, the approver approves over HTTP, the same statement run again runs once', async () => {
    const client = await stack.client(agent);
    const statement = 'UPDATE orders SET qty = qty + 100 WHERE id = 9';
    const first = await held(client, statement);
    const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
    await sendCancel(stack.port, processID, secretKey);
    await assert.rejects(first.result, { code: '57014' });
    assert.equal(await qty(9), '9', 'nothing ran while held');

    const voted = await fetch(`${stack.pdp.url}/v1/approvals/${first.approvalId}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'approve', reason: 'ticket OPS-9' }),
    });
    assert.equal(voted.status, 200, await voted.text());

    let notices = 0;
    client.on('notice', () => (notices += 1));
    assert.equal((await client.query(statement)).rowCount, 1);
    assert.equal(notices, 0, 'no wait: the granted approval was found by its binding');
    assert.equal(await qty(9), '109');
    const approval = (await (await fetch(`${stack.pdp.url}/v1/approvals/${first.approvalId}`, { headers: { authorization: `Bearer ${stack.pepToken}` } })).json()) as { approval: { status: string } };
    assert.equal(approval.approval.status, 'executed');

    // Once used, the same statement waits for a new approval.
    client.removeAllListeners('notice');
    const third = await held(client, statement);
    assert.notEqual(third.approvalId, first.approvalId);
    await sendCancel(stack.port, processID, secretKey);
    await assert.rejects(third.result, { code: '57014' });
    assert.equal(await qty(9), '109');
    await client.end();
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
