// One principal cannot exhaust the PDP or the console: an agent that retries the same held
// command gets the same approval (one card, across replicas), a principal's pending approvals
// are capped, approval sockets are capped in all and per principal, and the queue goes out in
// bounded pages with long actions shortened and the full text one request away.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RedisServer } from '../support/redis-server.ts';
import { openApprovalSocket } from '../support/approval-socket-client.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { ORDERS_DB, reasonCodes, vote } from './approval-fixtures.ts';
import { auditBodyOf } from '@portcullis/pdp';

const update = (subjectToken: string, sql: string, resource = ORDERS_DB) => ({ subject_token: subjectToken, resource, action: { type: 'sql', sql }, session: { id: 'retry-loop' } });

async function pendingIds(pdp: TestPdp, token: string): Promise<string[]> {
  const ids: string[] = [];
  let page: string | undefined;
  do {
    const response = await fetch(`${pdp.url}/v1/approvals${page ? `?page=${encodeURIComponent(page)}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { pending: { id: string }[]; next_page?: string };
    ids.push(...body.pending.map((record) => record.id));
    page = body.next_page;
  } while (page !== undefined);
  return ids;
}

describe('an agent that retries, and a principal that floods (two replicas, one Redis)', () => {
  let redis: RedisServer;
  let shared: string;
  let replicaA: TestPdp;
  let replicaB: TestPdp;
  let alice: string;

  const replica = (name: string) =>
    startTestPdp({
      PORTCULLIS_REDIS_URL: redis.url,
      PORTCULLIS_STATE_DIR: shared,
      PORTCULLIS_AUDIT_DIR: join(shared, `audit-${name}`),
      PORTCULLIS_APPROVAL_MAX_PENDING_PER_PRINCIPAL: '5',
      PORTCULLIS_APPROVAL_MAX_SOCKETS_PER_PRINCIPAL: '2',
      PORTCULLIS_APPROVAL_MAX_SOCKETS: '4',
    });

  before(async () => {
    redis = await RedisServer.start();
    shared = mkdtempSync(join(tmpdir(), 'portcullis-flood-'));
    replicaA = await replica('a');
    replicaB = await replica('b');
    alice = await replicaA.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
  });
  after(async () => {
    await replicaA?.close({ keepState: true });
    await replicaB?.close({ keepState: true });
    await redis?.kill();
    rmSync(shared, { recursive: true, force: true });
  });

  test('the same UPDATE retried 300 times at once on two replicas is one pending approval; its approval runs it once', async () => {
    const writer = await replicaA.token({ sub: 'agent:retrier', roles: ['writer'] });
    const sql = 'UPDATE orders SET status = 1 WHERE id = 42';
    const answers = await Promise.all(Array.from({ length: 300 }, (_, index) => (index % 2 === 0 ? replicaA : replicaB).decide(update(writer, sql))));
    const ids = new Set(answers.map(({ status, body }) => {
      assert.equal(status, 200);
      assert.equal(body.effect, 'approval_required', JSON.stringify(body.reasons));
      return (body.approval as { id: string }).id;
    }));
    assert.equal(ids.size, 1, 'one approval however often the agent asks');
    const [id] = [...ids];
    const pending = await pendingIds(replicaB, alice);
    assert.equal(pending.filter((pendingId) => pendingId === id).length, 1);
    const requested = (await replicaA.auditEvents('approvals')).concat(await replicaB.auditEvents('approvals'))
      .filter((record: any) => (auditBodyOf(record) as any).approval.id === id && auditBodyOf(record)?.event === 'approval.requested');
    assert.equal(requested.length, 1, 'one approval.requested in the trail');

    assert.equal((await vote(replicaB.url, alice, id!, 'approve', 'ticket OPS-42')).status, 200);
    const run = await replicaA.decide({ ...update(writer, sql), approval_id: id });
    assert.equal(run.body.effect, 'allow');
    const again = await replicaB.decide({ ...update(writer, sql), approval_id: id });
    assert.deepEqual(reasonCodes(again.body), ['approval-already-used']);
    // Once it is used, asking again is a new request: a new card.
    const fresh = await replicaA.decide(update(writer, sql));
    assert.equal(fresh.body.effect, 'approval_required');
    assert.notEqual((fresh.body.approval as { id: string }).id, id);
  });

  test('what counts as "the same": another principal, resource or statement is its own approval', async () => {
    const writer = await replicaA.token({ sub: 'agent:variants', roles: ['writer'] });
    const other = await replicaA.token({ sub: 'agent:variants-2', roles: ['writer'] });
    const sql = 'UPDATE orders SET status = 2 WHERE id = 43';
    const idOf = async (pdp: TestPdp, body: unknown) => ((await pdp.decide(body)).body.approval as { id: string }).id;
    const base = await idOf(replicaA, update(writer, sql));
    assert.equal(await idOf(replicaB, update(writer, sql)), base);
    assert.notEqual(await idOf(replicaA, update(other, sql)), base, 'another principal');
    assert.notEqual(await idOf(replicaA, update(writer, 'UPDATE orders SET status = 2 WHERE id = 44')), base, 'another statement');
    assert.notEqual(await idOf(replicaA, update(writer, sql, { ...ORDERS_DB, labels: { replica: 'eu-2' } } as typeof ORDERS_DB)), base, 'another resource (labels)');
  });

  test('past its cap of pending approvals a principal is denied with approvals-limit; others are not; a resolved one frees a place', async () => {
    const flooder = await replicaA.token({ sub: 'agent:flooder', roles: ['writer'] });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, index) => (index % 2 === 0 ? replicaA : replicaB).decide(update(flooder, `UPDATE orders SET status = 3 WHERE id = ${100 + index}`))));
    const held = answers.filter(({ body }) => body.effect === 'approval_required');
    const refused = answers.filter(({ body }) => body.effect === 'deny');
    assert.equal(held.length, 5);
    assert.equal(refused.length, 7);
    for (const { body } of refused) {
      assert.deepEqual(reasonCodes(body), ['approvals-limit']);
      assert.match((body.reasons as { message: string }[])[0]!.message, /already has 5 approvals pending \(at most 5\)/);
    }
    // Retrying a held one is still answered with its approval, not refused.
    const heldSql = `UPDATE orders SET status = 3 WHERE id = ${100 + answers.indexOf(held[0]!)}`;
    const retried = await replicaB.decide(update(flooder, heldSql));
    assert.equal(retried.body.effect, 'approval_required');
    const someoneElse = await replicaA.token({ sub: 'agent:bystander', roles: ['writer'] });
    assert.equal((await replicaA.decide(update(someoneElse, 'UPDATE orders SET status = 3 WHERE id = 999'))).body.effect, 'approval_required');
    assert.equal((await vote(replicaA.url, alice, (held[0]!.body.approval as { id: string }).id, 'deny', 'flooding')).status, 200);
    assert.equal((await replicaB.decide(update(flooder, 'UPDATE orders SET status = 3 WHERE id = 500'))).body.effect, 'approval_required');
    assert.deepEqual(reasonCodes((await replicaB.decide(update(flooder, 'UPDATE orders SET status = 3 WHERE id = 501'))).body), ['approvals-limit']);
  });

  test('approval sockets are capped per principal (close 4429) and in all (503 before the handshake)', async () => {
    const bob = await replicaA.consoleToken({ sub: 'bob', roles: ['approver'], kind: 'human' });
    const first = await openApprovalSocket(replicaA.url, { token: alice });
    const second = await openApprovalSocket(replicaA.url, { token: alice, via: 'header' });
    await first.next((m) => m.type === 'welcome');
    await second.next((m) => m.type === 'welcome');
    const third = await openApprovalSocket(replicaA.url, { token: alice });
    assert.equal((await third.closed()).code, 4429);
    const bobs = await openApprovalSocket(replicaA.url, { token: bob });
    await bobs.next((m) => m.type === 'welcome');
    const unauthenticated = await openApprovalSocket(replicaA.url);
    // Four open on this replica: the fifth is refused before any session exists.
    await assert.rejects(openApprovalSocket(replicaA.url, { token: bob }), /upgrade refused: 503/);
    await unauthenticated.close();
    await first.close();
    // A closed connection frees its place for its principal.
    let reopened;
    for (const started = Date.now(); ; ) {
      reopened = await openApprovalSocket(replicaA.url, { token: alice });
      const outcome = await Promise.race([reopened.next((m) => m.type === 'welcome').then(() => 'welcome'), reopened.closed().then(() => 'closed')]);
      if (outcome === 'welcome') break;
      if (Date.now() - started > 5000) assert.fail('the freed place was not given back');
    }
    // Another replica counts its own sockets.
    const elsewhere = await openApprovalSocket(replicaB.url, { token: alice });
    await elsewhere.next((m) => m.type === 'welcome');
    for (const socket of [second, bobs, reopened, elsewhere]) await socket.close();
  });
});

describe('300 approvals of 200 KiB of SQL each', () => {
  let redis: RedisServer;
  let pdp: TestPdp;
  let alice: string;
  const COUNT = 300;
  const filler = 'x'.repeat(200 * 1024);
  const sqlOf = (index: number) => `UPDATE orders SET note = '${filler}' WHERE id = ${index}`;

  before(async () => {
    redis = await RedisServer.start();
    pdp = await startTestPdp({ PORTCULLIS_REDIS_URL: redis.url, PORTCULLIS_APPROVAL_MAX_PENDING_PER_PRINCIPAL: String(COUNT) });
    alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const writer = await pdp.token({ sub: 'agent:bulk', roles: ['writer'] });
    for (let index = 0; index < COUNT; index += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, (_, offset) => pdp.decide(update(writer, sqlOf(index + offset)))));
      for (const { body } of batch) assert.equal(body.effect, 'approval_required', JSON.stringify(body.reasons));
    }
  });
  after(async () => {
    await pdp?.close();
    await redis?.kill();
  });

  test('the WebSocket snapshot is one bounded page; pages reach every approval; listed actions are shortened, the full text is one get away', async () => {
    const socket = await openApprovalSocket(pdp.url, { token: alice });
    await socket.next((m) => m.type === 'welcome');
    socket.send({ type: 'subscribe' });
    const snapshot = await socket.next((m) => m.type === 'snapshot', 30_000);
    const bytes = Buffer.byteLength(JSON.stringify(snapshot));
    assert.ok(bytes < 512 * 1024, `snapshot of ${bytes} bytes`);
    let pending = snapshot.pending as any[];
    assert.equal(pending.length, 50);
    for (const record of pending) {
      assert.ok(record.action.sql.length <= 4096);
      assert.equal(record.action_truncated.shown_chars, record.action.sql.length);
      assert.ok(record.action_truncated.total_chars > 200 * 1024);
    }
    const seen = new Set(pending.map((record) => record.id));
    let next = snapshot.next_page as string | undefined;
    let pages = 1;
    while (next !== undefined) {
      socket.send({ type: 'page', request_id: `p${pages}`, page: next });
      const page = await socket.next((m) => m.type === 'page' && m.request_id === `p${pages}`, 30_000);
      assert.ok(Buffer.byteLength(JSON.stringify(page)) < 512 * 1024);
      pending = page.pending as any[];
      for (const record of pending) seen.add(record.id);
      next = page.next_page as string | undefined;
      pages += 1;
    }
    assert.equal(seen.size, COUNT);
    assert.equal(pages, Math.ceil(COUNT / 50));

    const someId = snapshot.pending ? (snapshot.pending as any[])[0].id : '';
    socket.send({ type: 'get', request_id: 'full', approval_id: someId });
    const full = await socket.next((m) => m.type === 'record' && m.request_id === 'full', 30_000);
    assert.equal((full.approval as any).action.sql.length > 200 * 1024, true);
    assert.equal((full.approval as any).action_truncated, undefined);
    await socket.close();

    const http = await fetch(`${pdp.url}/v1/approvals/${someId}`, { headers: { authorization: `Bearer ${alice}` } });
    assert.ok(((await http.json()) as any).approval.action.sql.startsWith('UPDATE orders SET note = \'xxx'));
  });

  test('GET /v1/approvals pages the same way, bounded by limit, and refuses a forged cursor', async () => {
    const first = await fetch(`${pdp.url}/v1/approvals?limit=20`, { headers: { authorization: `Bearer ${alice}` } });
    const text = await first.text();
    assert.ok(text.length < 256 * 1024, `page of ${text.length} bytes`);
    const body = JSON.parse(text) as { pending: unknown[]; next_page: string };
    assert.equal(body.pending.length, 20);
    assert.equal((await pendingIds(pdp, alice)).length, COUNT);
    const forged = await fetch(`${pdp.url}/v1/approvals?page=${encodeURIComponent("1:' or 1=1")}`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(forged.status, 400);
    const tooBig = await fetch(`${pdp.url}/v1/approvals?limit=100000`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(tooBig.status, 400);
  });
});
