// The audit trail admits a decision's record before any approval is opened or consumed: a
// replica whose audit cannot take records leaves the approvals it shares with others untouched.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RedisServer } from '../support/redis-server.ts';
import { openApprovalSocket } from '../support/approval-socket-client.ts';
import { eventually } from '../support/eventually.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { deleteOrder, longPoll, readOrders, reasonCodes, requestApproval, vote } from './approval-fixtures.ts';

describe('a decision the audit trail cannot record has no side effect on approvals (one Redis, two replicas)', () => {
  let redis: RedisServer;
  let sharedState: string;
  let healthy: TestPdp;
  let broken: TestPdp;

  before(async () => {
    redis = await RedisServer.start();
    // Both replicas trust one dev issuer (one state folder); each keeps its own audit files.
    sharedState = mkdtempSync(join(tmpdir(), 'portcullis-audit-admission-'));
    const brokenAudit = join(sharedState, 'audit-broken');
    // The decisions file is a folder: appending to it fails, as a broken disk would.
    mkdirSync(join(brokenAudit, 'decisions.jsonl'), { recursive: true });
    healthy = await startTestPdp({ PORTCULLIS_REDIS_URL: redis.url, PORTCULLIS_STATE_DIR: sharedState, PORTCULLIS_AUDIT_DIR: join(sharedState, 'audit-healthy') });
    broken = await startTestPdp({ PORTCULLIS_REDIS_URL: redis.url, PORTCULLIS_STATE_DIR: sharedState, PORTCULLIS_AUDIT_DIR: brokenAudit });
    // Its first record finds the fault; from then on the trail admits nothing.
    const agent = await broken.token({ sub: 'agent:probe', roles: ['reader'] });
    const first = await broken.decide(readOrders(agent));
    assert.deepEqual(reasonCodes(first.body), ['audit-unavailable']);
    await eventually('the broken replica reports its audit trail failing', async () => (await broken.health()).audit.status === 'failing');
  });
  after(async () => {
    await broken?.close({ keepState: true });
    await healthy?.close({ keepState: true });
    await redis?.kill();
    rmSync(sharedState, { recursive: true, force: true });
  });

  test('a held command opens no approval there: it is denied audit-unavailable and no approver sees it', async () => {
    const agent = await broken.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    const held = await broken.decide(deleteOrder(agent, 301));
    assert.equal(held.body.effect, 'deny');
    assert.deepEqual(reasonCodes(held.body), ['audit-unavailable']);
    assert.equal(held.body.approval, undefined);

    const alice = await healthy.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const queue = (await (await fetch(`${healthy.url}/v1/approvals`, { headers: { authorization: `Bearer ${alice}` } })).json()) as { pending: { action: { sql?: string } }[] };
    assert.deepEqual(queue.pending.filter((record) => record.action.sql === 'DELETE FROM orders WHERE id = 301'), []);
  });

  test('a granted approval presented there stays unconsumed, and the healthy replica can still use it once', async () => {
    const agent = await healthy.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    const alice = await healthy.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const { id } = await requestApproval(healthy, deleteOrder(agent, 302));
    assert.equal((await vote(healthy.url, alice, id, 'approve', 'ticket OPS-302')).status, 200);

    const refused = await broken.decide({ ...deleteOrder(agent, 302), approval_id: id });
    assert.equal(refused.body.effect, 'deny');
    assert.deepEqual(reasonCodes(refused.body), ['audit-unavailable']);
    assert.equal(refused.body.approval, undefined);
    assert.equal((await longPoll(healthy.url, healthy.pepToken, id, 0)).body.approval.status, 'approved', 'the refused decision consumed nothing');

    const granted = await healthy.decide({ ...deleteOrder(agent, 302), approval_id: id });
    assert.equal(granted.body.effect, 'allow');
    assert.equal((granted.body.approval as { status: string }).status, 'executed');
  });

  test('a vote cast there, by HTTP or on the socket, is refused audit-unavailable and the approval stays pending', async () => {
    const agent = await healthy.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    const alice = await broken.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const { id } = await requestApproval(healthy, deleteOrder(agent, 303));

    const byHttp = await vote(broken.url, alice, id, 'approve', 'ticket OPS-303');
    assert.equal(byHttp.status, 503);
    assert.equal(byHttp.body.code, 'audit-unavailable');

    const socket = await openApprovalSocket(broken.url, { token: alice });
    await socket.next((m) => m.type === 'welcome');
    socket.send({ type: 'vote', request_id: 'v303', approval_id: id, verdict: 'approve', reason: 'ticket OPS-303' });
    const bySocket = await socket.next((m) => m.type === 'vote_result' && m.request_id === 'v303');
    await socket.close();
    assert.equal(bySocket.ok, false);
    assert.equal(bySocket.code, 'audit-unavailable');
    assert.equal((await longPoll(healthy.url, healthy.pepToken, id, 0)).body.approval.status, 'pending', 'no unrecorded vote resolved it');

    // Where the trail records, the same vote counts.
    assert.equal((await vote(healthy.url, await healthy.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' }), id, 'approve', 'ticket OPS-303')).status, 200);
  });
});
