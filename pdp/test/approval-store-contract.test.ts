// The ApprovalStore contract, proven against both implementations (in memory, and Redis on a
// real redis-server this file starts), then what only Redis has: replicas sharing state and
// events, racing transitions, and an outage with recovery.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { ApprovalCreateInput, ApprovalEvent, ApprovalRecord, ApprovalStore, ApprovalVote } from '../src/approvals/approval-store.ts';
import { ApprovalStoreUnavailableError } from '../src/approvals/approval-store-unavailable-error.ts';
import { InMemoryApprovalStore } from '../src/approvals/in-memory-approval-store.ts';
import { RedisApprovalStore } from '../src/approvals/redis-approval-store.ts';
import { runApprovalWrite } from '../src/approvals/approval-write-script.ts';

import { RedisServer } from '../../test/support/redis-server.ts';
import { compareEventIds } from '../src/approvals/approval-event-log.ts';
import { eventually } from '../../test/support/eventually.ts';

// --- fixtures ----------------------------------------------------------------------------

function request(overrides: Partial<ApprovalCreateInput> = {}): ApprovalCreateInput {
  return {
    requester: { sub: 'agent:billing-bot', kind: 'agent' },
    resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
    decision_id: '00000000-0000-4000-8000-000000000007',
    action: { type: 'sql', sql: 'DELETE FROM orders WHERE id = 7' },
    action_summary: 'DELETE FROM orders WHERE id = 7',
    // A binding of its own per request: the same binding while pending is one record (see open).
    binding: randomBytes(32).toString('hex'),
    reasons: [{ code: 'sql-delete', message: 'deletes rows in production' }],
    quorum: 1,
    approver_roles: ['dba'],
    ttlSeconds: 60,
    ...overrides,
  };
}

function approve(approver: string, roles = ['dba'], kind: 'agent' | 'human' = 'human'): ApprovalVote {
  return { approver, approverRoles: roles, approverKind: kind, verdict: 'approve', reason: '' };
}

function deny(approver: string, reason: string, kind: 'agent' | 'human' = 'human'): ApprovalVote {
  return { approver, approverRoles: ['dba'], approverKind: kind, verdict: 'deny', reason };
}

/** Polls until `check` holds, within a bound (no fixed sleeps standing in for an ordering). */
async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  await eventually(what, check, { timeoutMs, intervalMs: 5 });
}

/** Records every event a store delivers and waits for one that matches. */
function collect(store: ApprovalStore): { events: ApprovalEvent[]; waitFor(match: (event: ApprovalEvent) => boolean, timeoutMs?: number): Promise<ApprovalEvent>; stop(): void } {
  const events: ApprovalEvent[] = [];
  const stop = store.subscribe((event) => events.push(event));
  return {
    events,
    stop,
    async waitFor(match, timeoutMs = 2000) {
      return eventually('a matching event', () => events.find(match) ?? assert.fail(`got ${events.map((e) => `${e.type}:${e.record.status}`).join(', ')}`), { timeoutMs, intervalMs: 5 });
    },
  };
}

function expectRefused(result: Awaited<ReturnType<ApprovalStore['vote']>>, code: string): void {
  assert.equal(result.ok, false, `expected ${code}, got ok`);
  if (!result.ok) assert.equal(result.code, code, result.message);
}

function expectOk(result: Awaited<ReturnType<ApprovalStore['vote']>>): ApprovalRecord {
  if (!result.ok) assert.fail(`expected ok, got ${result.code}: ${result.message}`);
  return result.record;
}

// --- the contract ------------------------------------------------------------------------

type StoreFactory = (options?: { expiryIntervalMs?: number; eventLogLength?: number }) => Promise<ApprovalStore>;

function approvalStoreContract(name: string, setup: () => Promise<{ make: StoreFactory; teardown(): Promise<void> }>): void {
  describe(`${name}: ApprovalStore contract`, () => {
    let make: StoreFactory;
    let teardown: () => Promise<void>;
    let store: ApprovalStore;

    before(async () => {
      ({ make, teardown } = await setup());
      // The sweep is off so expiry tests see exactly what expireDue and vote do.
      store = await make({ expiryIntervalMs: 0 });
    });
    after(async () => {
      await store.close();
      await teardown();
    });

    test('create returns a pending record that get and listPending return', async () => {
      const soon = await store.create(request({ ttlSeconds: 30 }));
      const later = await store.create(request({ ttlSeconds: 90, quorum: 2 }));
      assert.equal(soon.status, 'pending');
      assert.equal(soon.version, 1);
      assert.deepEqual(soon.decisions, []);
      assert.equal(Date.parse(soon.expires_at) - Date.parse(soon.created_at), 30_000);
      assert.deepEqual(await store.get(soon.id), soon);
      const pending = (await store.listPending()).map((record) => record.id);
      assert.ok(pending.indexOf(soon.id) >= 0 && pending.indexOf(soon.id) < pending.indexOf(later.id), 'soonest expiry first');
      assert.equal(await store.get('no-such-id'), undefined);
      expectRefused(await store.vote('no-such-id', approve('dba:alice')), 'not-found');
      expectRefused(await store.consume('no-such-id', 'a'.repeat(64)), 'not-found');
    });

    test('create refuses a quorum below one or a non-positive TTL', async () => {
      await assert.rejects(store.create(request({ quorum: 0 })), RangeError);
      await assert.rejects(store.create(request({ ttlSeconds: 0 })), RangeError);
    });

    test('the requester cannot approve their own request (same subject)', async () => {
      const record = await store.create(request({ approver_roles: ['dba', 'agent'] }));
      expectRefused(await store.vote(record.id, approve('agent:billing-bot', ['dba', 'agent'])), 'self-approval');
      assert.equal((await store.get(record.id))?.status, 'pending');
    });

    test('an approver without an allowed role is refused', async () => {
      const record = await store.create(request());
      expectRefused(await store.vote(record.id, approve('dev:bob', ['developer'])), 'role-not-allowed');
      const nobody = await store.create(request({ approver_roles: [] }));
      expectRefused(await store.vote(nobody.id, approve('dba:alice')), 'role-not-allowed');
    });

    test('a deny needs a reason', async () => {
      const record = await store.create(request());
      expectRefused(await store.vote(record.id, deny('dba:alice', '')), 'reason-required');
      expectRefused(await store.vote(record.id, deny('dba:alice', '   ')), 'reason-required');
      assert.equal((await store.get(record.id))?.status, 'pending');
    });

    test('any deny rejects, even after an approval toward the quorum', async () => {
      const record = await store.create(request({ quorum: 2 }));
      expectOk(await store.vote(record.id, approve('dba:alice')));
      const denied = expectOk(await store.vote(record.id, deny('dba:bob', 'wrong table')));
      assert.equal(denied.status, 'denied');
      assert.ok(denied.resolved_at);
      assert.deepEqual(denied.decisions.map((d) => [d.approver, d.verdict, d.reason]), [['dba:alice', 'approve', ''], ['dba:bob', 'deny', 'wrong table']]);
      expectRefused(await store.vote(record.id, approve('dba:carol')), 'not-pending');
    });

    test('a quorum of two needs two distinct approvers; the same one twice is refused', async () => {
      const record = await store.create(request({ quorum: 2 }));
      const first = expectOk(await store.vote(record.id, approve('dba:alice')));
      assert.equal(first.status, 'pending');
      assert.equal(first.version, 2);
      expectRefused(await store.vote(record.id, approve('dba:alice')), 'already-voted');
      const second = expectOk(await store.vote(record.id, approve('dba:bob')));
      assert.equal(second.status, 'approved');
      assert.equal(second.version, 3);
      assert.deepEqual(await store.get(record.id), second);
      assert.ok(!(await store.listPending()).some((pending) => pending.id === record.id));
    });

    test('a vote after the TTL marks the request expired and is refused', async () => {
      const record = await store.create(request({ ttlSeconds: 0.2 }));
      await sleep(250);
      expectRefused(await store.vote(record.id, approve('dba:alice')), 'expired');
      const stored = await store.get(record.id);
      assert.equal(stored?.status, 'expired');
      assert.deepEqual(stored?.decisions, []);
      expectRefused(await store.vote(record.id, approve('dba:bob')), 'expired');
    });

    test('expireDue expires pending requests past their TTL, once', async () => {
      const due = await store.create(request({ ttlSeconds: 0.2 }));
      const notDue = await store.create(request({ ttlSeconds: 60 }));
      await sleep(250);
      const expired = await store.expireDue();
      assert.ok(expired.some((record) => record.id === due.id && record.status === 'expired'));
      assert.ok(!expired.some((record) => record.id === notDue.id));
      assert.ok(!(await store.expireDue()).some((record) => record.id === due.id));
      const pending = (await store.listPending()).map((record) => record.id);
      assert.ok(!pending.includes(due.id) && pending.includes(notDue.id));
    });

    test('consume needs an approved request with the same binding, and works once', async () => {
      const record = await store.create(request());
      expectRefused(await store.consume(record.id, record.binding), 'not-pending');
      expectOk(await store.vote(record.id, approve('dba:alice')));
      expectRefused(await store.consume(record.id, 'b'.repeat(64)), 'binding-mismatch');
      expectRefused(await store.consume(record.id, 'short'), 'binding-mismatch');
      const executed = expectOk(await store.consume(record.id, record.binding));
      assert.equal(executed.status, 'executed');
      expectRefused(await store.consume(record.id, record.binding), 'not-pending');
    });

    test('consumeGranted finds the approved record of a binding and consumes it once; pending, denied and window ones are not found', async () => {
      const record = await store.create(request());
      assert.equal(await store.consumeGranted(record.binding), undefined, 'pending: nothing granted yet');
      expectOk(await store.vote(record.id, approve('dba:alice')));
      assert.equal(await store.consumeGranted('b'.repeat(64)), undefined, 'another binding');
      const consumed = await store.consumeGranted(record.binding);
      assert.ok(consumed?.ok);
      assert.deepEqual([consumed.record.id, consumed.record.status, consumed.record.uses], [record.id, 'executed', 1]);
      assert.equal(await store.consumeGranted(record.binding), undefined, 'used once');

      const denied = await store.create(request());
      expectOk(await store.vote(denied.id, deny('dba:alice', 'no')));
      assert.equal(await store.consumeGranted(denied.binding), undefined);

      const window = await store.create(request({ window_seconds: 60 }));
      expectOk(await store.vote(window.id, approve('dba:alice')));
      assert.equal(await store.consumeGranted(window.binding), undefined, 'a window is presented by its id');
      assert.equal((await store.get(window.id))?.uses, undefined);
    });

    test('consumeGranted after expires_at finds nothing and executes nothing', async () => {
      const record = await store.create(request({ ttlSeconds: 0.3 }));
      expectOk(await store.vote(record.id, approve('dba:alice')));
      await until(() => Date.now() >= Date.parse(record.expires_at), 'the approval expired');
      assert.equal(await store.consumeGranted(record.binding), undefined);
      assert.equal((await store.get(record.id))?.status, 'approved');
    });

    test('concurrent consumeGranted calls consume one approval exactly once', async () => {
      const record = await store.create(request());
      expectOk(await store.vote(record.id, approve('dba:alice')));
      const results = await Promise.all(Array.from({ length: 6 }, () => store.consumeGranted(record.binding)));
      assert.equal(results.filter((result) => result?.ok).length, 1);
      assert.equal((await store.get(record.id))?.uses, 1);
    });

    test('a window approval covers uses until its window ends, each use counted', async () => {
      const record = await store.create(request({ window_seconds: 0.3 }));
      const approved = await store.vote(record.id, approve('dba:alice'));
      assert.ok(approved.ok);
      assert.ok(approved.record.window_ends_at !== undefined);
      const first = await store.consume(record.id, record.binding);
      const second = await store.consume(record.id, record.binding);
      assert.ok(first.ok && second.ok);
      assert.equal(second.record.status, 'approved');
      assert.equal(second.record.uses, 2);
      expectRefused(await store.consume(record.id, 'b'.repeat(64)), 'binding-mismatch');
      await sleep(350);
      expectRefused(await store.consume(record.id, record.binding), 'expired');
    });

    test('consume at or after expires_at is refused, though the approval was granted in time', async () => {
      for (const ttlSeconds of [0.3, 0.5]) {
        const record = await store.create(request({ ttlSeconds }));
        const approved = expectOk(await store.vote(record.id, approve('dba:alice')));
        assert.equal(approved.status, 'approved');
        await until(() => Date.now() >= Date.parse(record.expires_at), 'the approval expired');
        expectRefused(await store.consume(record.id, record.binding), 'expired');
        expectRefused(await store.consume(record.id, record.binding), 'expired');
        const stored = await store.get(record.id);
        assert.equal(stored?.status, 'approved', 'nothing was executed');
        assert.equal(stored?.uses, undefined);
      }
    });

    test('a vote at or after expires_at is refused even when it would reach the quorum', async () => {
      const record = await store.create(request({ ttlSeconds: 0.3, quorum: 2 }));
      expectOk(await store.vote(record.id, approve('dba:alice')));
      await until(() => Date.now() >= Date.parse(record.expires_at), 'the approval expired');
      expectRefused(await store.vote(record.id, approve('dba:bob')), 'expired');
      assert.equal((await store.get(record.id))?.status, 'expired');
      expectRefused(await store.consume(record.id, record.binding), 'expired');
    });

    test('a window approval is not usable after its window ends, nor a vote on it after expiry', async () => {
      const record = await store.create(request({ window_seconds: 0.3, ttlSeconds: 0.6 }));
      expectOk(await store.vote(record.id, approve('dba:alice')));
      expectOk(await store.consume(record.id, record.binding));
      const approved = await store.get(record.id);
      await until(() => Date.now() >= Date.parse(approved!.window_ends_at!), 'the window ended');
      expectRefused(await store.consume(record.id, record.binding), 'expired');
      expectRefused(await store.vote(record.id, approve('dba:bob')), 'not-pending');
      assert.equal((await store.get(record.id))?.uses, 1);
    });

    test('only the kinds the approval names may vote: humans by default, agents when policy says so', async () => {
      const record = await store.create(request());
      expectRefused(await store.vote(record.id, approve('bot:approver', ['dba'], 'agent')), 'kind-not-allowed');
      expectRefused(await store.vote(record.id, deny('bot:approver', 'no', 'agent')), 'kind-not-allowed');
      assert.deepEqual((await store.get(record.id))?.decisions, []);
      const human = expectOk(await store.vote(record.id, approve('dba:alice')));
      assert.equal(human.decisions[0]!.kind, 'human');
      assert.deepEqual(human.approver_kinds, ['human']);

      const agents = await store.create(request({ approver_kinds: ['agent', 'human'], quorum: 2 }));
      const first = expectOk(await store.vote(agents.id, approve('bot:approver', ['dba'], 'agent')));
      assert.equal(first.decisions[0]!.kind, 'agent', 'the vote carries the voter\'s real kind');
      const second = expectOk(await store.vote(agents.id, approve('dba:alice')));
      assert.deepEqual(second.decisions.map((decision) => decision.kind), ['agent', 'human']);

      const nobody = await store.create(request({ approver_kinds: [] }));
      expectRefused(await store.vote(nobody.id, approve('dba:alice')), 'kind-not-allowed');
    });

    test('asking again for a pending binding answers with the same record; a new one once it left pending', async () => {
      const binding = randomBytes(32).toString('hex');
      const first = await store.open(request({ binding }));
      assert.ok(first.outcome === 'created');
      const again = await Promise.all(Array.from({ length: 25 }, () => store.open(request({ binding, decision_id: '00000000-0000-4000-8000-000000000008' }))));
      for (const opened of again) {
        assert.ok(opened.outcome === 'joined');
        assert.equal(opened.record.id, first.record.id);
      }
      assert.equal((await store.listPending()).filter((record) => record.binding === binding).length, 1);
      expectOk(await store.vote(first.record.id, deny('dba:alice', 'not now')));
      const after = await store.open(request({ binding }));
      assert.ok(after.outcome === 'created' && after.record.id !== first.record.id);
      // An expired one no longer stands for the command either.
      const short = await store.open(request({ binding: randomBytes(32).toString('hex'), ttlSeconds: 0.2 }));
      assert.ok(short.outcome === 'created');
      await until(() => Date.now() >= Date.parse(short.record.expires_at), 'expired');
      const renewed = await store.open(request({ binding: short.record.binding }));
      assert.ok(renewed.outcome === 'created' && renewed.record.id !== short.record.id);
    });

    test('a requester holding the most pending approvals allowed is refused another; others are not', async () => {
      const requester = { sub: `agent:flood-${randomBytes(4).toString('hex')}`, kind: 'agent' as const };
      const opened = await Promise.all(Array.from({ length: 8 }, () => store.open(request({ requester }), { maxPendingPerRequester: 5 })));
      assert.equal(opened.filter((result) => result.outcome === 'created').length, 5);
      const refused = opened.filter((result) => result.outcome === 'limit');
      assert.equal(refused.length, 3);
      assert.deepEqual(refused[0], { outcome: 'limit', pending: 5, limit: 5 });
      const other = await store.open(request({ requester: { sub: `${requester.sub}-other`, kind: 'agent' } }), { maxPendingPerRequester: 5 });
      assert.equal(other.outcome, 'created');
      // A joined request does not count against the cap, and one resolved frees a place.
      const held = opened.find((result) => result.outcome === 'created')!;
      assert.ok(held.outcome === 'created');
      assert.equal((await store.open(request({ requester, binding: held.record.binding }), { maxPendingPerRequester: 5 })).outcome, 'joined');
      expectOk(await store.vote(held.record.id, deny('dba:alice', 'flood')));
      assert.equal((await store.open(request({ requester }), { maxPendingPerRequester: 5 })).outcome, 'created');
    });

    test('the pending queue pages in expiry order; every record appears once across pages', async () => {
      const paged = await make({ expiryIntervalMs: 0 });
      try {
        const made = [];
        for (let index = 0; index < 23; index += 1) made.push(await paged.create(request({ ttlSeconds: 60 + (index % 4) })));
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await paged.pendingPage(cursor, 5);
          assert.ok(page.records.length <= 5);
          seen.push(...page.records.map((record) => record.id));
          cursor = page.next;
          pages += 1;
        } while (cursor !== undefined);
        assert.equal(pages, 5);
        assert.deepEqual([...seen].sort(), made.map((record) => record.id).sort());
        assert.deepEqual(seen, (await paged.listPending()).map((record) => record.id), 'the same order as listPending');
        await assert.rejects(paged.pendingPage('not-a-cursor', 5), RangeError);
      } finally {
        await paged.close();
      }
    });

    test('subscribers see requested, updated and resolved events', async () => {
      const seen = collect(store);
      try {
        const record = await store.create(request({ quorum: 2 }));
        await seen.waitFor((e) => e.type === 'requested' && e.record.id === record.id);
        await store.vote(record.id, approve('dba:alice'));
        await seen.waitFor((e) => e.type === 'updated' && e.record.id === record.id && e.record.decisions.length === 1);
        await store.vote(record.id, approve('dba:bob'));
        await seen.waitFor((e) => e.type === 'resolved' && e.record.id === record.id && e.record.status === 'approved');
        await store.consume(record.id, record.binding);
        await seen.waitFor((e) => e.type === 'updated' && e.record.id === record.id && e.record.status === 'executed');
      } finally {
        seen.stop();
      }
    });

    test('every change has an ordered log id: eventsSince resumes after a cursor, and recentResolved reads the log', async () => {
      const cursor = await store.latestEventId();
      const first = await store.create(request());
      const second = await store.create(request());
      await store.vote(first.id, deny('dba:alice', 'no'));
      const since = await store.eventsSince(cursor, 100);
      assert.equal(since.complete, true);
      assert.deepEqual(since.events.map((e) => [e.record.id, e.type]), [[first.id, 'requested'], [second.id, 'requested'], [first.id, 'resolved']]);
      const ids = since.events.map((e) => e.id);
      assert.deepEqual([...ids].sort(compareEventIds), ids, 'ids increase');
      assert.equal(await store.latestEventId(), ids[2]);
      const page = await store.eventsSince(ids[0]!, 1);
      assert.deepEqual(page.events.map((e) => e.id), [ids[1]]);
      const resolved = await store.recentResolved(10);
      assert.equal(resolved[0]!.id, first.id);
      assert.equal(resolved[0]!.status, 'denied');
      assert.ok(!resolved.some((r) => r.id === second.id), 'pending records are not history');
    });

    test('a cursor older than the log is reported incomplete', async () => {
      const short = await make({ eventLogLength: 1 });
      try {
        const cursor = await short.latestEventId();
        // Redis trims in whole stream nodes (about 100 entries), so write well past that.
        for (let index = 0; index < 250; index += 1) await short.create(request());
        const since = await short.eventsSince(cursor, 10);
        assert.equal(since.complete, false);
      } finally {
        await short.close();
      }
    });

    test('the expiry timer marks due requests expired and announces it', async () => {
      const swept = await make({ expiryIntervalMs: 50 });
      const seen = collect(swept);
      try {
        const record = await swept.create(request({ ttlSeconds: 0.1 }));
        const event = await seen.waitFor((e) => e.type === 'resolved' && e.record.id === record.id);
        assert.equal(event.record.status, 'expired');
      } finally {
        seen.stop();
        await swept.close();
      }
    });
  });
}

approvalStoreContract('InMemoryApprovalStore', async () => ({
  make: async (options) => new InMemoryApprovalStore(options),
  teardown: async () => {},
}));

approvalStoreContract('RedisApprovalStore', async () => {
  const server = await RedisServer.start();
  return {
    make: async (options) => {
      const store = new RedisApprovalStore({ connection: { host: '127.0.0.1', port: server.port }, prefix: `{test-${Math.random().toString(16).slice(2)}}`, ...options });
      await store.ready();
      return store;
    },
    teardown: () => server.kill('SIGTERM'),
  };
});

// --- Redis only: replicas, races, outage ---------------------------------------------------

describe('RedisApprovalStore across replicas', () => {
  let server: RedisServer;
  let injected: Redis;
  let replicaA: RedisApprovalStore;
  let replicaB: RedisApprovalStore;
  const prefix = '{replicas}';

  before(async () => {
    server = await RedisServer.start();
    // One replica from options, the other on a client the caller owns: both forms are accepted.
    injected = new Redis({ host: '127.0.0.1', port: server.port, enableOfflineQueue: true });
    replicaA = new RedisApprovalStore({ connection: { host: '127.0.0.1', port: server.port }, prefix, expiryIntervalMs: 0 });
    replicaB = new RedisApprovalStore({ connection: injected, prefix, expiryIntervalMs: 0 });
    await Promise.all([replicaA.ready(), replicaB.ready()]);
  });
  after(async () => {
    await replicaA.close();
    await replicaB.close();
    injected.disconnect();
    await server.kill('SIGTERM');
  });

  test('records live under <prefix>:approval:<id> with a TTL of expiry plus grace, indexed while pending', async () => {
    const record = await replicaA.create(request({ ttlSeconds: 60 }));
    const ttl = await injected.pttl(`${prefix}:approval:${record.id}`);
    assert.ok(ttl > 3_600_000 + 55_000 && ttl <= 3_600_000 + 60_000, `pttl ${ttl}`);
    assert.equal(await injected.zscore(`${prefix}:approvals:pending`, record.id), String(Date.parse(record.expires_at)));
    expectOk(await replicaB.vote(record.id, approve('dba:alice')));
    assert.equal(await injected.zscore(`${prefix}:approvals:pending`, record.id), null);
  });

  test('an event published by one replica reaches the subscribers of the other', async () => {
    const onB = collect(replicaB);
    try {
      const record = await replicaA.create(request());
      await onB.waitFor((e) => e.type === 'requested' && e.record.id === record.id);
      expectOk(await replicaA.vote(record.id, approve('dba:alice')));
      const resolved = await onB.waitFor((e) => e.type === 'resolved' && e.record.id === record.id);
      assert.equal(resolved.record.status, 'approved');
      assert.equal((await replicaB.get(record.id))?.status, 'approved');
    } finally {
      onB.stop();
    }
  });

  test('events published while a replica\'s subscription was down are delivered from the log after it reconnects', async () => {
    const seen = collect(replicaB);
    try {
      const before = await replicaA.create(request());
      await seen.waitFor((e) => e.record.id === before.id);
      // Drop B's subscription; write while it reconnects; B must still see every event, once, in order.
      await injected.client('KILL', 'TYPE', 'pubsub');
      const during = [];
      for (let index = 0; index < 5; index += 1) during.push(await replicaA.create(request()));
      for (const record of during) await seen.waitFor((e) => e.record.id === record.id, 10_000);
      const ids = seen.events.map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, 'no event twice');
      assert.deepEqual([...ids].sort(compareEventIds), ids, 'in log order');
    } finally {
      seen.stop();
    }
  });

  test('concurrent votes from two replicas reach the quorum exactly once (many rounds)', async () => {
    const onA = collect(replicaA);
    try {
      const rounds = 40;
      const ids: string[] = [];
      for (let round = 0; round < rounds; round += 1) {
        // Quorum two: both votes count, the second write approves.
        const two = await replicaA.create(request({ quorum: 2 }));
        const results = await Promise.all([replicaA.vote(two.id, approve('dba:alice')), replicaB.vote(two.id, approve('dba:bob'))]);
        const statuses = results.map((result) => expectOk(result).status).sort();
        assert.deepEqual(statuses, ['approved', 'pending']);
        const final = await replicaB.get(two.id);
        assert.equal(final?.decisions.length, 2);
        assert.equal(final?.version, 3);

        // Quorum one: exactly one approver wins, the other finds it decided.
        const one = await replicaA.create(request({ quorum: 1 }));
        const race = await Promise.all([replicaA.vote(one.id, approve('dba:alice')), replicaB.vote(one.id, approve('dba:bob'))]);
        assert.equal(race.filter((result) => result.ok).length, 1);
        expectRefused(race.find((result) => !result.ok)!, 'not-pending');

        // The same approver on both replicas at once counts once.
        const twice = await replicaA.create(request({ quorum: 2 }));
        const same = await Promise.all([replicaA.vote(twice.id, approve('dba:alice')), replicaB.vote(twice.id, approve('dba:alice'))]);
        assert.equal(same.filter((result) => result.ok).length, 1);
        expectRefused(same.find((result) => !result.ok)!, 'already-voted');
        assert.equal((await replicaA.get(twice.id))?.status, 'pending');

        // Two replicas consuming one approval: only one may run the command.
        const consumed = await Promise.all([replicaA.consume(one.id, one.binding), replicaB.consume(one.id, one.binding)]);
        assert.equal(consumed.filter((result) => result.ok).length, 1);
        ids.push(two.id, one.id);
      }
      // Every approval resolved exactly once on the bus, seen from either replica.
      await onA.waitFor((e) => e.type === 'updated' && e.record.id === ids.at(-1) && e.record.status === 'executed');
      for (const id of ids) {
        assert.equal(onA.events.filter((e) => e.type === 'resolved' && e.record.id === id).length, 1, `resolved events for ${id}`);
      }
    } finally {
      onA.stop();
    }
  });

  test('the write script refuses, by Redis\'s clock, a transition whose deadline has passed', async () => {
    const record = await replicaA.create(request({ ttlSeconds: 60 }));
    const [seconds] = await injected.time();
    const redisNow = Number(seconds) * 1000;
    const attempt = (deadlineMs: number) =>
      runApprovalWrite(injected, {
        recordKey: `${prefix}:approval:${record.id}`,
        pendingKey: `${prefix}:approvals:pending`,
        logKey: `${prefix}:approvals:log`,
        bindingKey: `${prefix}:approvals:binding:x`,
        requesterKey: `${prefix}:approvals:requester:x`,
        logLength: 100,
        expectedVersion: record.version,
        recordJson: JSON.stringify({ ...record, status: 'executed', version: record.version + 1 }),
        keyExpiresAtMs: redisNow + 60_000,
        id: record.id,
        channel: `${prefix}:approvals:events`,
        eventJson: '{"type":"updated","record":{}}',
        deadlineMs,
      });
    assert.equal(await attempt(redisNow - 1), 'late');
    assert.equal(await attempt(redisNow - 60_000), 'late');
    assert.equal((await replicaA.get(record.id))?.status, 'pending', 'nothing was written');
  });

  test('replicas racing to open the same command make one record; racing past the cap stop at it', async () => {
    const binding = 'c'.repeat(64);
    const opened = await Promise.all(Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? replicaA : replicaB).open(request({ binding }))));
    const ids = new Set(opened.map((result) => (result.outcome === 'limit' ? 'limit' : result.record.id)));
    assert.equal(ids.size, 1);
    assert.equal(opened.filter((result) => result.outcome === 'created').length, 1);
    const requester = { sub: 'agent:racer', kind: 'agent' as const };
    const capped = await Promise.all(Array.from({ length: 30 }, (_, index) => (index % 2 === 0 ? replicaA : replicaB).open(request({ requester }), { maxPendingPerRequester: 7 })));
    assert.equal(capped.filter((result) => result.outcome === 'created').length, 7);
  });

  test('two replicas sweeping at once expire a request once', async () => {
    const onA = collect(replicaA);
    try {
      const record = await replicaA.create(request({ ttlSeconds: 0.1 }));
      await sleep(150);
      const [fromA, fromB] = await Promise.all([replicaA.expireDue(), replicaB.expireDue()]);
      const expiredBy = [...fromA, ...fromB].filter((expired) => expired.id === record.id);
      assert.equal(expiredBy.length, 1);
      await onA.waitFor((e) => e.type === 'resolved' && e.record.id === record.id);
      // A fence, not a pause: B's expiry was published before this request, in Redis's order.
      const fence = await replicaB.create(request({ requester: { sub: 'agent:fence', kind: 'agent' } }));
      await onA.waitFor((e) => e.type === 'requested' && e.record.id === fence.id);
      assert.equal(onA.events.filter((e) => e.type === 'resolved' && e.record.id === record.id).length, 1);
    } finally {
      onA.stop();
    }
  });
});

describe('RedisApprovalStore when Redis goes away', () => {
  test('operations reject within a bound while Redis is down, and work again when it returns, with no new store', async () => {
    const server = await RedisServer.start();
    const store = new RedisApprovalStore({ connection: { host: '127.0.0.1', port: server.port }, prefix: '{outage}', expiryIntervalMs: 0, commandTimeoutMs: 1000 });
    try {
      await store.ready();
      const before = await store.create(request());
      await server.kill();

      for (const operation of [
        () => store.create(request()),
        () => store.get(before.id),
        () => store.listPending(),
        () => store.vote(before.id, approve('dba:alice')),
        () => store.consume(before.id, before.binding),
        () => store.expireDue(),
      ]) {
        const started = Date.now();
        await assert.rejects(operation(), (error: unknown) => error instanceof ApprovalStoreUnavailableError && error.code === 'approvals-unavailable');
        // Well under the 1 s command timeout: a closed connection fails at once, nothing queues.
        assert.ok(Date.now() - started < 500, `rejected after ${Date.now() - started} ms`);
      }
      assert.equal((await store.health()).ok, false);

      // Same port, empty data and an empty script cache: the store must reconnect and resubscribe.
      await server.restart();
      await eventually('the store recovers', async () => (await store.health()).ok, { timeoutMs: 10_000 });
      const seen = collect(store);
      const record = await store.create(request());
      await seen.waitFor((e) => e.type === 'requested' && e.record.id === record.id);
      assert.equal(expectOk(await store.vote(record.id, approve('dba:alice'))).status, 'approved');
      seen.stop();
    } finally {
      await store.close();
      await server.kill('SIGTERM');
    }
  });

  test('a Redis that stops answering is reported within the command timeout', async () => {
    const server = await RedisServer.start();
    const store = new RedisApprovalStore({ connection: { host: '127.0.0.1', port: server.port }, prefix: '{hung}', expiryIntervalMs: 0, commandTimeoutMs: 300 });
    try {
      await store.ready();
      const record = await store.create(request());
      server.pause(true);
      const started = Date.now();
      await assert.rejects(store.vote(record.id, approve('dba:alice')), ApprovalStoreUnavailableError);
      assert.ok(Date.now() - started < 1000, `rejected after ${Date.now() - started} ms`);
      server.pause(false);
      assert.equal(expectOk(await store.vote(record.id, approve('dba:alice'))).status, 'approved');
    } finally {
      server.pause(false);
      await store.close();
      await server.kill('SIGTERM');
    }
  });
});
