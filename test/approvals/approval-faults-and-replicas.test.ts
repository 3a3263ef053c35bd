// What happens to approvals when Redis goes away and comes back, when a PDP restarts, and when
// the requester, the approver and the waiter are on different PDP replicas sharing one Redis.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RedisServer } from '../support/redis-server.ts';
import { openApprovalSocket } from '../support/approval-socket-client.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { deleteOrder, longPoll, readOrders, reasonCodes, requestApproval, vote } from './approval-fixtures.ts';
import { eventually } from '../support/eventually.ts';
import { auditBodyOf } from '@portcullis/pdp';

describe('approvals when Redis goes away', () => {
  let redis: RedisServer;
  let pdp: TestPdp;

  before(async () => {
    redis = await RedisServer.start();
    pdp = await startTestPdp({ PORTCULLIS_REDIS_URL: redis.url });
  });
  after(async () => {
    await pdp?.close();
    await redis?.kill();
  });

  test('approval_required becomes deny (approvals-unavailable), plain answers are unaffected, and it recovers with no restart', async () => {
    const writer = await pdp.token({ sub: 'agent:writer', roles: ['writer'] });
    const nobody = await pdp.token({ sub: 'agent:nobody', roles: [] });
    const before = await requestApproval(pdp, deleteOrder(writer, 51));

    await redis.kill();
    const held = await pdp.decide(deleteOrder(writer, 52));
    assert.equal(held.status, 200);
    assert.equal(held.body.effect, 'deny');
    assert.deepEqual(reasonCodes(held.body), ['approvals-unavailable']);
    assert.equal(held.body.approval, undefined);
    const allowed = await pdp.decide(readOrders(writer));
    assert.equal(allowed.body.effect, 'allow');
    const denied = await pdp.decide(readOrders(nobody));
    assert.equal(denied.body.effect, 'deny');
    assert.ok(!reasonCodes(denied.body).includes('approvals-unavailable'));
    const health = (await pdp.health()) as any;
    assert.equal(health.approvals.status, 'unavailable');
    assert.equal(health.status, 'degraded');
    const poll = await fetch(`${pdp.url}/v1/approvals/${before.id}`, { headers: { authorization: `Bearer ${pdp.pepToken}` } });
    assert.equal(poll.status, 503);
    assert.equal(((await poll.json()) as any).code, 'approvals-unavailable');

    await redis.restart();
    // ioredis reconnects with backoff; the first approval after that works on the same PDP.
    const recovered = await eventually('approval_required comes back after Redis returned', async () => {
      const answer = await pdp.decide(deleteOrder(writer, 53));
      return answer.body.effect === 'approval_required' && answer.body;
    }, { intervalMs: 100 });
    assert.ok(recovered, 'approval_required came back after Redis returned');
    // Health follows both Redis connections (commands and the subscriber that fans approvals out to
    // consoles); the subscriber may reconnect a little after the command connection answers again.
    await eventually('/health says approvals are ok again', async () => ((await pdp.health()) as any).approvals.status === 'ok', { intervalMs: 100 });
  });
});

describe('approvals across PDP restarts and replicas (one Redis)', () => {
  let redis: RedisServer;
  let sharedState: string;
  let replicaA: TestPdp;
  let replicaB: TestPdp;

  // Both replicas trust the same dev issuer (one state folder) and keep separate audit files.
  const replica = (name: string) =>
    startTestPdp({ PORTCULLIS_REDIS_URL: redis.url, PORTCULLIS_STATE_DIR: sharedState, PORTCULLIS_AUDIT_DIR: join(sharedState, `audit-${name}`) });

  before(async () => {
    redis = await RedisServer.start();
    sharedState = mkdtempSync(join(tmpdir(), 'portcullis-replicas-'));
    replicaA = await replica('a');
    replicaB = await replica('b');
  });
  after(async () => {
    await replicaA?.close({ keepState: true });
    await replicaB?.close({ keepState: true });
    await redis?.kill();
    rmSync(sharedState, { recursive: true, force: true });
  });

  test('a request decided on A is approved by an approver on B; waiters on A (HTTP and WebSocket) are released', async () => {
    const agent = await replicaA.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    const alice = await replicaB.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const approverOnB = await openApprovalSocket(replicaB.url, { token: alice });
    await approverOnB.next((m) => m.type === 'welcome');
    approverOnB.send({ type: 'subscribe' });
    await approverOnB.next((m) => m.type === 'snapshot');

    const { id } = await requestApproval(replicaA, deleteOrder(agent, 61));
    const seenOnB = await approverOnB.next((m) => m.type === 'event' && (m.approval as any).id === id);
    assert.equal(seenOnB.event, 'requested');

    const httpWaiterOnA = longPoll(replicaA.url, replicaA.pepToken, id, 20);
    const socketWaiterOnA = await openApprovalSocket(replicaA.url, { token: replicaA.pepToken, via: 'header' });
    await socketWaiterOnA.next((m) => m.type === 'welcome');
    socketWaiterOnA.send({ type: 'wait', approval_id: id });
    await socketWaiterOnA.next((m) => m.type === 'approval' && m.final === false);

    approverOnB.send({ type: 'vote', request_id: 'v', approval_id: id, verdict: 'approve', reason: 'looks right' });
    assert.equal((await approverOnB.next((m) => m.type === 'vote_result')).ok, true);
    assert.equal((await httpWaiterOnA).body.approval.status, 'approved');
    assert.equal(((await socketWaiterOnA.next((m) => m.type === 'approval' && m.final === true)).approval as any).status, 'approved');

    // The approval is consumed on A; B cannot use it again.
    const granted = await replicaA.decide({ ...deleteOrder(agent, 61), approval_id: id });
    assert.equal(granted.body.effect, 'allow');
    const replay = await replicaB.decide({ ...deleteOrder(agent, 61), approval_id: id });
    assert.deepEqual(reasonCodes(replay.body), ['approval-already-used']);

    // Each transition is audited once, by the replica that made it.
    const onA = (await replicaA.auditEvents('approvals')).map((r: any) => auditBodyOf(r) as any).filter((b: any) => b.approval.id === id);
    const onB = (await replicaB.auditEvents('approvals')).map((r: any) => auditBodyOf(r) as any).filter((b: any) => b.approval.id === id);
    assert.deepEqual(onA.map((b: any) => b.event), ['approval.requested', 'approval.executed']);
    assert.deepEqual(onB.map((b: any) => b.event), ['approval.approved']);
    await approverOnB.close();
    await socketWaiterOnA.close();
  });

  test('an approver resumes on the other replica without missing an event', async () => {
    const agent = await replicaA.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    const alice = await replicaA.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const onA = await openApprovalSocket(replicaA.url, { token: alice });
    await onA.next((m) => m.type === 'welcome');
    onA.send({ type: 'subscribe' });
    const { cursor } = await onA.next((m) => m.type === 'snapshot');
    await onA.close();

    const { id: first } = await requestApproval(replicaA, deleteOrder(agent, 71));
    const { id: second } = await requestApproval(replicaB, deleteOrder(agent, 72));

    const onB = await openApprovalSocket(replicaB.url, { token: alice });
    await onB.next((m) => m.type === 'welcome');
    onB.send({ type: 'subscribe', resume_from: cursor });
    await onB.next((m) => m.type === 'resumed');
    const replayed = onB.messages.filter((m) => m.type === 'event').map((m) => (m.approval as any).id);
    assert.deepEqual(replayed, [first, second]);
    await onB.close();
  });

  test('a PDP restart loses no pending approval', async () => {
    const agent = await replicaA.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    const { id } = await requestApproval(replicaA, deleteOrder(agent, 81));
    await replicaA.close({ keepState: true });
    replicaA = await replica('a');
    const alice = await replicaA.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const queue = (await (await fetch(`${replicaA.url}/v1/approvals`, { headers: { authorization: `Bearer ${alice}` } })).json()) as any;
    assert.ok(queue.pending.some((record: any) => record.id === id), 'still pending after the restart');
    const voted = await vote(replicaA.url, alice, id, 'approve');
    assert.equal(voted.body.approval.status, 'approved');
    const granted = await replicaA.decide({ ...deleteOrder(agent, 81), approval_id: id });
    assert.equal(granted.body.effect, 'allow');
  });
});
