// The approvals WebSocket protocol (docs/approvals-protocol.md) against a real PDP and Redis:
// authentication, the live queue, votes, waits, bad input, and resume after a reconnect.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RedisServer } from '../support/redis-server.ts';
import { openApprovalSocket } from '../support/approval-socket-client.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { deleteOrder, requestApproval } from './approval-fixtures.ts';

describe('the approvals WebSocket', () => {
  let redis: RedisServer;
  let pdp: TestPdp;
  let agent: string;
  let alice: string;

  before(async () => {
    redis = await RedisServer.start();
    pdp = await startTestPdp({ PORTCULLIS_REDIS_URL: redis.url });
    agent = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
  });
  after(async () => {
    await pdp?.close();
    await redis?.kill();
  });

  test('authenticates by header or first message, and refuses tokens in the URL', async () => {
    const byHeader = await openApprovalSocket(pdp.url, { token: alice, via: 'header' });
    const welcome = await byHeader.next((m) => m.type === 'welcome');
    assert.equal(welcome.protocol, 1);
    assert.deepEqual((welcome.principal as any).sub, 'alice');
    assert.equal(welcome.can_watch, true);
    await byHeader.close();

    const byMessage = await openApprovalSocket(pdp.url, { token: alice });
    assert.equal((await byMessage.next((m) => m.type === 'welcome')).can_watch, true);
    await byMessage.close();

    const inUrl = await openApprovalSocket(pdp.url, { path: `/v1/ws?access_token=${alice}` });
    assert.equal((await inUrl.closed()).code, 4400);

    const forged = await openApprovalSocket(pdp.url, { token: `${alice.slice(0, -4)}AAAA` });
    assert.equal((await forged.closed()).code, 4401);

    const silent = await openApprovalSocket(pdp.url);
    silent.send({ type: 'subscribe' });
    assert.equal((await silent.closed()).code, 4401, 'a message before auth closes the connection');

    const noRole = await openApprovalSocket(pdp.url, { token: agent });
    assert.equal((await noRole.closed()).code, 4403);
  });

  test('messages sent right after a header-authenticated handshake are handled in order, not refused', async () => {
    const client = await openApprovalSocket(pdp.url, { token: alice, via: 'header' });
    client.send({ type: 'subscribe' });
    client.send({ type: 'ping', request_id: 'after-subscribe' });
    const order = [await client.next((m) => m.type === 'welcome'), await client.next((m) => m.type === 'snapshot'), await client.next((m) => m.type === 'pong')];
    assert.deepEqual(client.messages.slice(0, 3).map((m) => m.type), ['welcome', 'snapshot', 'pong']);
    assert.equal(order[2]!.request_id, 'after-subscribe');
    await client.close();
  });

  test('garbage and malformed messages get errors and change nothing', async () => {
    const client = await openApprovalSocket(pdp.url, { token: alice });
    await client.next((m) => m.type === 'welcome');
    client.send({ type: 'vote', request_id: 'r1', approval_id: 'x', verdict: 'approve' });
    const badId = await client.next((m) => m.type === 'error');
    assert.equal(badId.code, 'invalid-message');
    assert.equal(badId.request_id, 'r1');
    client.socket.send('{"type":');
    assert.equal((await client.next((m) => m.type === 'error')).code, 'malformed-json');
    client.socket.send(Buffer.from([0, 1, 2]), { binary: true });
    assert.equal((await client.next((m) => m.type === 'error')).code, 'invalid-message');
    client.send({ type: 'launch-missiles' });
    assert.equal((await client.next((m) => m.type === 'error')).code, 'invalid-message');
    client.send({ type: 'ping', request_id: 'p' });
    assert.equal((await client.next((m) => m.type === 'pong')).request_id, 'p', 'the connection still works');
    // Over the 64 KiB frame limit: the server closes (1009, message too big).
    client.socket.send('x'.repeat(70 * 1024));
    assert.equal((await client.closed()).code, 1009);
  });

  test('an approver gets the queue and live events, and votes; a PEP waiting on the socket is released', async () => {
    const approver = await openApprovalSocket(pdp.url, { token: alice });
    await approver.next((m) => m.type === 'welcome');
    approver.send({ type: 'subscribe' });
    const snapshot = await approver.next((m) => m.type === 'snapshot');
    assert.ok(Array.isArray(snapshot.pending));

    const { id } = await requestApproval(pdp, deleteOrder(agent, 31));
    const requested = await approver.next((m) => m.type === 'event' && (m.approval as any).id === id);
    assert.equal(requested.event, 'requested');
    assert.equal((requested.approval as any).action.sql, 'DELETE FROM orders WHERE id = 31');

    const pep = await openApprovalSocket(pdp.url, { token: pdp.pepToken, via: 'header' });
    assert.equal((await pep.next((m) => m.type === 'welcome')).can_watch, false);
    pep.send({ type: 'wait', request_id: 'w1', approval_id: id });
    const now = await pep.next((m) => m.type === 'approval');
    assert.equal(now.final, false);
    assert.equal((now.approval as any).status, 'pending');
    pep.send({ type: 'subscribe' });
    assert.equal((await pep.next((m) => m.type === 'error')).code, 'forbidden', 'a PEP cannot watch the whole queue');

    approver.send({ type: 'vote', request_id: 'v1', approval_id: id, verdict: 'approve', reason: 'ok' });
    const result = await approver.next((m) => m.type === 'vote_result');
    assert.equal(result.ok, true);
    assert.equal(result.request_id, 'v1');
    const resolved = await approver.next((m) => m.type === 'event' && (m.approval as any).id === id && m.event === 'resolved');
    assert.equal((resolved.approval as any).status, 'approved');
    const released = await pep.next((m) => m.type === 'approval' && m.final === true);
    assert.equal((released.approval as any).status, 'approved');
    assert.equal(released.request_id, 'w1');

    approver.send({ type: 'vote', request_id: 'v2', approval_id: id, verdict: 'approve' });
    const refused = await approver.next((m) => m.type === 'vote_result' && m.request_id === 'v2');
    assert.equal(refused.ok, false);
    assert.equal(refused.code, 'not-pending');

    approver.send({ type: 'history', request_id: 'h', limit: 10 });
    const history = await approver.next((m) => m.type === 'history');
    assert.ok((history.resolved as any[]).some((record) => record.id === id && record.status === 'approved'));
    await approver.close();
    await pep.close();
  });

  test('the requester voting over the socket is refused as self-approval', async () => {
    const both = await pdp.token({ sub: 'agent:ops-bot', roles: ['writer', 'approver'] });
    const { id } = await requestApproval(pdp, deleteOrder(both, 32));
    const client = await openApprovalSocket(pdp.url, { token: await pdp.consoleToken({ sub: 'agent:ops-bot', roles: ['writer', 'approver'] }) });
    await client.next((m) => m.type === 'welcome');
    client.send({ type: 'vote', request_id: 's', approval_id: id, verdict: 'approve' });
    const result = await client.next((m) => m.type === 'vote_result');
    assert.equal(result.ok, false);
    assert.equal(result.code, 'self-approval');
    await client.close();
  });

  test('a client that reconnects with resume_from gets every event it missed, once, in order', async () => {
    const first = await openApprovalSocket(pdp.url, { token: alice });
    await first.next((m) => m.type === 'welcome');
    first.send({ type: 'subscribe' });
    await first.next((m) => m.type === 'snapshot');
    const { id: seen } = await requestApproval(pdp, deleteOrder(agent, 41));
    const lastSeen = await first.next((m) => m.type === 'event' && (m.approval as any).id === seen);
    await first.close();

    // While the approver is away: two requests, one vote by someone else.
    const bob = await pdp.consoleToken({ sub: 'bob', roles: ['approver'], kind: 'human' });
    const { id: missedA } = await requestApproval(pdp, deleteOrder(agent, 42));
    const { id: missedB } = await requestApproval(pdp, deleteOrder(agent, 43));
    const voted = await fetch(`${pdp.url}/v1/approvals/${seen}/votes`, { method: 'POST', headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json' }, body: JSON.stringify({ verdict: 'deny', reason: 'wrong id' }) });
    assert.equal(voted.status, 200);

    const second = await openApprovalSocket(pdp.url, { token: alice });
    await second.next((m) => m.type === 'welcome');
    second.send({ type: 'subscribe', resume_from: lastSeen.id });
    await second.next((m) => m.type === 'resumed');
    const replayed = second.messages.filter((m) => m.type === 'event').map((m) => [(m.approval as any).id, m.event]);
    assert.deepEqual(replayed, [[missedA, 'requested'], [missedB, 'requested'], [seen, 'resolved']]);
    const ids = second.messages.filter((m) => m.type === 'event').map((m) => m.id as string);
    assert.equal(new Set(ids).size, ids.length, 'no event twice');

    // Live events keep flowing after the backfill.
    const { id: live } = await requestApproval(pdp, deleteOrder(agent, 44));
    await second.next((m) => m.type === 'event' && (m.approval as any).id === live);

    // A cursor the log cannot serve gets a fresh snapshot, marked as a resync.
    const third = await openApprovalSocket(pdp.url, { token: alice });
    await third.next((m) => m.type === 'welcome');
    third.send({ type: 'subscribe', resume_from: 'not-an-id' });
    const resync = await third.next((m) => m.type === 'snapshot');
    assert.equal(resync.resync, true);
    assert.ok((resync.pending as any[]).some((record) => record.id === live));
    await second.close();
    await third.close();
  });
});
