import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../../../test/support/pdp-harness.ts';
import { sessionEventBodies } from '../../../test/support/session-records.ts';
import {
  HttpPdpTransport,
  MemorySessionEventSink,
  PdpSessionEventSink,
  SessionRecorder,
  type PdpTransport,
  type SessionEventSink,
  type SessionEventV1,
  type StatementRecord,
} from '../src/index.ts';
import { ORDERS_DB, sql } from './support/decision-requests.ts';
import { deadPort } from './support/fault-servers.ts';
import { eventually } from '../../../test/support/eventually.ts';
import { auditBodyOf } from '@portcullis/pdp';

const statement = (text: string, extra: Partial<StatementRecord> = {}): StatementRecord => ({
  text,
  kind: 'select',
  decisionId: 'decision-1',
  status: 'success',
  durationMs: 1.5,
  rows: 2,
  bytes: 40,
  maskedCells: 1,
  ...extra,
});

function recorder(sink: SessionEventSink, id: string, subjectToken?: string): SessionRecorder {
  return new SessionRecorder({
    sink,
    session: { id, client_addr: '127.0.0.1' },
    protocol: 'sql',
    resource: { ...ORDERS_DB, labels: { team: 'billing' } },
    ...(subjectToken ? { subjectToken } : {}),
  });
}

describe('the session recorder', () => {
  it('records start, each statement and an end with the totals, in order', () => {
    const sink = new MemorySessionEventSink();
    const session = recorder(sink, 's-1', 'subject-token');
    session.start();
    session.statement(statement('SELECT 1'));
    session.statement(statement('SELECT email FROM users', { rows: 3, bytes: 60, maskedCells: 3 }));
    session.statement(statement('SELECT nope', { status: 'failure', error: 'column "nope" does not exist', rows: undefined, bytes: undefined, maskedCells: undefined }));
    session.end('client-closed');

    const events = sink.events;
    assert.deepEqual(events.map((event) => event.event), ['session.start', 'session.statement', 'session.statement', 'session.statement', 'session.end']);
    assert.ok(events.every((event) => event.session.id === 's-1' && event.subject_token === 'subject-token' && event.protocol === 'sql'));
    assert.equal(new Set(events.map((event) => event.event_id)).size, events.length, 'every event has its own id');
    assert.deepEqual(events[0]!.resource, { type: 'postgres', name: 'orders-db', environment: 'production' });
    const end = events.at(-1) as Extract<SessionEventV1, { event: 'session.end' }>;
    assert.deepEqual([end.statements, end.rows, end.bytes, end.masked_cells, end.reason], [3, 5, 100, 4, 'client-closed']);
    const failed = events[3] as Extract<SessionEventV1, { event: 'session.statement' }>;
    assert.equal(failed.status, 'failure');
    assert.equal(failed.error, 'column "nope" does not exist');
    assert.equal(failed.rows, undefined);
  });

  it('ends once, and starts on its own if the caller forgot', () => {
    const sink = new MemorySessionEventSink();
    const session = recorder(sink, 's-2');
    session.statement(statement('SELECT 1'));
    session.end('upstream-closed');
    session.end('client-closed');
    session.statement(statement('SELECT 2'));
    assert.deepEqual(sink.events.map((event) => event.event), ['session.start', 'session.statement', 'session.end']);
    assert.equal(session.ended, true);
    assert.equal(sink.events[0]!.subject_token, undefined);
  });

  it('scrubs personal data out of upstream error texts', () => {
    const sink = new MemorySessionEventSink();
    const session = recorder(sink, 's-3');
    session.statement(statement('INSERT INTO users …', {
      status: 'failure',
      error: 'duplicate key value violates unique constraint "users_email_key": Key (email)=(jane.doe@example.com) already exists',
    }));
    const recorded = sink.events[1] as Extract<SessionEventV1, { event: 'session.statement' }>;
    assert.ok(!recorded.error!.includes('jane.doe@example.com'));
    assert.ok(recorded.error!.includes('Key (email)=(<EMAIL_ADDRESS>) already exists'));
  });

  it('keeps huge statement texts bounded', () => {
    const sink = new MemorySessionEventSink();
    recorder(sink, 's-4').statement(statement(`SELECT '${'x'.repeat(200_000)}'`));
    const recorded = sink.events[1] as Extract<SessionEventV1, { event: 'session.statement' }>;
    assert.ok(recorded.statement.text.length <= 64 * 1024);
  });
});

describe('session events shipped to a real PDP', () => {
  let pdp: TestPdp;
  let agent: string;

  before(async () => {
    pdp = await startTestPdp();
    agent = await pdp.token({ sub: 'agent:reporting', roles: ['reader'] });
  });

  /** Decisions the PDP issued to this PEP for this resource, principal and session: the only ones it records statements under. */
  async function decisionsIn(sessionId: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < count; index += 1) ids.push((await pdp.decide(sql(agent, `SELECT ${index}`, sessionId))).body.decision_id as string);
    return ids;
  }
  after(() => pdp.close());

  async function sessionRecords(id: string): Promise<Record<string, any>[]> {
    // A run of statements posted together is one record: read back one posted event at a time.
    return sessionEventBodies(await pdp.auditEvents('sessions')).filter((body) => body.session.id === id) as Record<string, any>[];
  }

  it('reach the audit trail in order, with the verified principal and the totals, after close', async () => {
    const transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    const sink = new PdpSessionEventSink(transport, { flushIntervalMs: 60_000 });
    const session = recorder(sink, 'shipped-1', agent);
    const decisionIds = await decisionsIn('shipped-1', 5);
    session.start();
    for (let index = 0; index < 5; index += 1) session.statement(statement(`SELECT ${index}`, { decisionId: decisionIds[index]! }));
    session.end('client-closed');
    const stats = await sink.close();
    transport.close();

    assert.deepEqual(stats, { submitted: 7, shipped: 7, dropped: 0, rejected: 0, lost: 0, pending: 0 });
    const records = await sessionRecords('shipped-1');
    assert.deepEqual(records.map((body) => body.event), ['session.start', ...Array(5).fill('session.statement'), 'session.end']);
    assert.deepEqual(records.slice(1, 6).map((body) => body.decision_id), decisionIds);
    assert.ok(records.slice(1, 6).every((body) => body.decision_verified === true));
    assert.ok(records.every((body) => body.principal.sub === 'agent:reporting'));
    assert.deepEqual([records[6]!.statements, records[6]!.rows, records[6]!.masked_cells], [5, 10, 5]);
    assert.ok(!JSON.stringify(records).includes(agent), 'the subject token is not in the record');
  });

  it('ship on their own once a batch fills, without a flush or close', async () => {
    const transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    const sink = new PdpSessionEventSink(transport, { batchSize: 3, flushIntervalMs: 60_000 });
    const session = recorder(sink, 'shipped-2', agent);
    const decisionIds = await decisionsIn('shipped-2', 3);
    session.start();
    session.statement(statement('SELECT 1', { decisionId: decisionIds[1]! }));
    session.statement(statement('SELECT 2', { decisionId: decisionIds[2]! }));
    await eventually('three events shipped', () => sink.stats().shipped >= 3, { intervalMs: 10 });
    assert.equal((await sessionRecords('shipped-2')).length, 3);
    await sink.close();
    transport.close();
  });

  it('survive a PDP that is down at first: they are retried until it is up', async () => {
    const port = await deadPort();
    // The token is read per call, as from a rotated file: the PDP that comes up has its own.
    let pepToken = 'not-yet';
    const transport = new HttpPdpTransport({ url: `http://127.0.0.1:${port}`, pepToken: () => pepToken });
    let problems = 0;
    const sink = new PdpSessionEventSink(transport, { retryInitialMs: 20, retryMaxMs: 100, closeTimeoutMs: 20_000, onProblem: () => (problems += 1) });
    const session = recorder(sink, 'retried-1', agent);
    const decisionIds = await decisionsIn('retried-1', 2);
    session.start();
    session.statement(statement('SELECT 1', { decisionId: decisionIds[1]! }));
    session.end('client-closed');
    await eventually('two problems reported', () => problems >= 2, { intervalMs: 10 });
    assert.equal(sink.stats().pending, 3);

    // A replica sharing the decision key: it verifies the decision the first PDP issued.
    const late = await startTestPdp({ PORTCULLIS_PORT: String(port), PORTCULLIS_DECISION_KEY_FILE: `${pdp.stateDir}/decision-key/key` });
    pepToken = late.pepToken;
    try {
      const stats = await sink.close();
      assert.deepEqual([stats.shipped, stats.lost, stats.dropped], [3, 0, 0]);
      const records = (await late.auditEvents('sessions')).map((record: any) => auditBodyOf(record) as any).filter((body: any) => body.session.id === 'retried-1');
      assert.deepEqual(records.map((body) => body.event), ['session.start', 'session.statement', 'session.end']);
    } finally {
      transport.close();
      await late.close();
    }
  });

  it('stay bounded while the PDP is away by refusing new statements, never by dropping the records of admitted ones', async () => {
    const transport = new HttpPdpTransport({ url: `http://127.0.0.1:${await deadPort()}`, pepToken: pdp.pepToken });
    const problems: string[] = [];
    const sink = new PdpSessionEventSink(transport, { maxQueuedEvents: 5, retryInitialMs: 20, closeTimeoutMs: 200, onProblem: (message) => problems.push(message) });
    const session = recorder(sink, 'bounded-1', agent);
    session.start();
    let admitted = 0;
    for (let index = 0; index < 20; index += 1) {
      // What a PEP does before each statement: run it only if its record will be kept.
      if (!session.canRecord()) continue;
      admitted += 1;
      session.statement(statement(`SELECT ${index}`));
    }
    assert.equal(admitted, 4, 'statements are admitted while the queue is under its bound');
    assert.equal(sink.hasCapacity(), false);
    session.end('client-closed');
    assert.equal(sink.stats().pending, 6, 'start, four statements, end: nothing dropped');
    const stats = await sink.close();
    transport.close();
    assert.deepEqual([stats.submitted, stats.dropped, stats.shipped, stats.lost], [6, 0, 0, 6]);
    const probe = new MemorySessionEventSink();
    recorder(probe, 'bounded-2').start();
    assert.equal(sink.submit(probe.events[0]!), false, 'a closed sink takes nothing');
    assert.ok(problems.some((message) => /session events dropped: 1 so far/.test(message)), 'a drop is reported, never silent');
  });

  it('ship different sessions over parallel lanes at once, and each session\'s events in its order', async () => {
    const real = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    // Counts the POSTs in flight on the way to the real PDP: the PDP answers each once its records
    // are durable, and sessions on other lanes must not queue behind that wait.
    let inFlight = 0;
    let mostInFlight = 0;
    const transport: PdpTransport = {
      async call(...args) {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        try {
          return await real.call(...args);
        } finally {
          inFlight -= 1;
        }
      },
      close: () => real.close(),
    };
    const sink = new PdpSessionEventSink(transport, { batchSize: 2, flushIntervalMs: 60_000, lanes: 4 });
    const ids = Array.from({ length: 12 }, (_, index) => `lanes-${index}`);
    const decisions = new Map<string, string[]>();
    for (const id of ids) decisions.set(id, await decisionsIn(id, 3));
    const sessions = ids.map((id) => recorder(sink, id, agent));
    for (const session of sessions) session.start();
    for (let index = 0; index < 3; index += 1) {
      sessions.forEach((session, which) => session.statement(statement(`SELECT ${index}`, { decisionId: decisions.get(ids[which]!)![index]! })));
    }
    for (const session of sessions) session.end('client-closed');
    const stats = await sink.close();
    transport.close();

    assert.deepEqual([stats.shipped, stats.dropped, stats.lost, stats.pending], [12 * 5, 0, 0, 0]);
    assert.ok(mostInFlight > 1, `sessions on different lanes ship side by side (at most ${mostInFlight} POST in flight)`);
    for (const id of ids) {
      const records = await sessionRecords(id);
      assert.deepEqual(records.map((body) => body.statement?.text ?? body.event), ['session.start', 'SELECT 0', 'SELECT 1', 'SELECT 2', 'session.end'], id);
      assert.deepEqual(records.slice(1, 4).map((body) => body.decision_id), decisions.get(id));
    }
  });

  it('let a statement wait for the record to catch up, instead of refusing it while the PDP is only behind', async () => {
    const real = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    // Holds every POST until the test lets them through: the PDP is up, the record behind.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const transport: PdpTransport = {
      async call(...args) {
        await released;
        return real.call(...args);
      },
      close: () => real.close(),
    };
    const sink = new PdpSessionEventSink(transport, { maxQueuedEvents: 4, batchSize: 2, flushIntervalMs: 60_000 });
    const session = recorder(sink, 'waiting-1', agent);
    const decisionIds = await decisionsIn('waiting-1', 4);
    session.start();
    for (let index = 0; index < 3; index += 1) session.statement(statement(`SELECT ${index}`, { decisionId: decisionIds[index]! }));
    assert.equal(session.canRecord(), false, 'the queue is at its bound');
    let settled = false;
    const waiting = session.waitToRecord(60_000).then((ready) => {
      settled = true;
      return ready;
    });
    await Promise.resolve();
    assert.equal(settled, false, 'the statement waits while the record is behind');
    release();
    assert.equal(await waiting, true, 'it may run once the record has caught up');
    session.statement(statement('SELECT 3', { decisionId: decisionIds[3]! }));
    session.end('client-closed');
    const stats = await sink.close();
    transport.close();
    assert.deepEqual([stats.shipped, stats.dropped, stats.lost], [6, 0, 0]);
    assert.deepEqual((await sessionRecords('waiting-1')).map((body) => body.statement?.text ?? body.event), ['session.start', 'SELECT 0', 'SELECT 1', 'SELECT 2', 'SELECT 3', 'session.end']);
  });

  it('refuse a statement when the record stays behind past the wait, and tell waiters at once when the sink closes', async () => {
    const transport = new HttpPdpTransport({ url: `http://127.0.0.1:${await deadPort()}`, pepToken: pdp.pepToken });
    const sink = new PdpSessionEventSink(transport, { maxQueuedEvents: 2, retryInitialMs: 20, closeTimeoutMs: 200 });
    const session = recorder(sink, 'behind-1', agent);
    session.start();
    session.statement(statement('SELECT 1'));
    assert.equal(await session.waitToRecord(50), false, 'no capacity came within the wait');
    const waiting = session.waitToRecord(600_000);
    await sink.close();
    transport.close();
    assert.equal(await waiting, false, 'a closed sink records nothing more');
  });

  it('drop only the event the PDP refuses as invalid and ship the rest of its batch', async () => {
    const transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    const sink = new PdpSessionEventSink(transport, { flushIntervalMs: 60_000 });
    const memory = new MemorySessionEventSink();
    const session = recorder(memory, 'invalid-1', agent);
    const decisionIds = await decisionsIn('invalid-1', 2);
    session.start();
    session.statement(statement('SELECT 1', { decisionId: decisionIds[1]! }));
    session.end('client-closed');
    const [start, good, end] = memory.events;
    sink.submit(start!);
    sink.submit({ ...good!, status: 'maybe' } as unknown as SessionEventV1);
    sink.submit(end!);
    const stats = await sink.close();
    transport.close();
    assert.deepEqual([stats.shipped, stats.rejected], [2, 1]);
    assert.deepEqual((await sessionRecords('invalid-1')).map((body) => body.event), ['session.start', 'session.end']);
  });

  it('drop only a statement whose decision the PDP refuses (403): the rest of its batch, and every later one, still ships', async () => {
    const transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    const problems: string[] = [];
    const sink = new PdpSessionEventSink(transport, { flushIntervalMs: 60_000, retryInitialMs: 20, closeTimeoutMs: 5_000, onProblem: (message) => problems.push(message) });
    const [first, second] = [recorder(sink, 'refused-decision-1', agent), recorder(sink, 'refused-decision-2', agent)];
    const [allowed] = await decisionsIn('refused-decision-1', 1);
    const [otherSessions] = await decisionsIn('refused-decision-2', 1);
    const decisionOf = async (text: string): Promise<string> => (await pdp.decide(sql(agent, text, 'refused-decision-1'))).body.decision_id as string;
    const [denied, oneStatement] = [await decisionOf('DELETE FROM orders'), await decisionOf('BEGIN')];
    first.start();
    first.statement(statement('SELECT 1', { decisionId: allowed! }));
    // Each a claim the PDP refuses: a deny, an empty id, another session's decision, reuse of one that granted none.
    first.statement(statement('DELETE FROM orders', { decisionId: denied }));
    first.statement(statement('SELECT 2', { decisionId: '' }));
    first.statement(statement('SELECT 3', { decisionId: otherSessions! }));
    first.statement(statement('BEGIN', { decisionId: oneStatement, decisionReused: true }));
    first.end('client-closed');
    second.start();
    second.statement(statement('SELECT 5', { decisionId: otherSessions! }));
    second.end('client-closed');
    const stats = await sink.close();
    transport.close();

    assert.deepEqual([stats.shipped, stats.rejected, stats.lost], [6, 4, 0], problems.join('\n'));
    assert.deepEqual((await sessionRecords('refused-decision-1')).map((body) => body.statement?.text ?? body.event), ['session.start', 'SELECT 1', 'session.end']);
    assert.deepEqual((await sessionRecords('refused-decision-2')).map((body) => body.statement?.text ?? body.event), ['session.start', 'SELECT 5', 'session.end']);
    assert.ok(problems.some((message) => /refused by the PDP \(403 forbidden\)/.test(message)), 'each refusal is reported');
  });
});
