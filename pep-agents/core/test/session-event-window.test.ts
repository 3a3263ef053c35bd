import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../../../test/support/pdp-harness.ts';
import { sessionEventBodies } from '../../../test/support/session-records.ts';
import { HttpPdpTransport, PdpSessionEventSink, SessionRecorder, type PdpTransport, type StatementRecord } from '../src/index.ts';
import { ORDERS_DB, sql } from './support/decision-requests.ts';
import { eventually } from '../../../test/support/eventually.ts';

const statement = (text: string, decisionId: string): StatementRecord => ({ text, kind: 'select', decisionId, status: 'success', durationMs: 1, rows: 1, bytes: 8 });

/**
 * The session sink's window (PORTCULLIS_PEP_SESSION_BATCH_MS): a lane's POST leaves when its
 * batch is full, when a session ends, or when the window has passed — not merely because the
 * previous POST came back, so a busy session's entries travel in a few large batches.
 */
describe('session entries shipped in time windows', () => {
  let pdp: TestPdp;
  let agent: string;

  before(async () => {
    pdp = await startTestPdp();
    agent = await pdp.token({ sub: 'agent:reporting', roles: ['reader'] });
  });
  after(() => pdp.close());

  async function decisionsIn(sessionId: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < count; index += 1) ids.push((await pdp.decide(sql(agent, `SELECT ${index}`, sessionId))).body.decision_id as string);
    return ids;
  }

  /** The real transport, each POST held until the test lets it go, and the batches posted. */
  function heldTransport(): { transport: PdpTransport; posted: number[]; releaseNext: () => void; inFlight: () => number } {
    const real = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    const posted: number[] = [];
    const gates: Array<() => void> = [];
    let waiting = 0;
    const transport: PdpTransport = {
      async call(method, path, body, options) {
        posted.push((body as { events: unknown[] }).events.length);
        waiting += 1;
        await new Promise<void>((resolve) => gates.push(resolve));
        waiting -= 1;
        return real.call(method, path, body, options);
      },
      close: () => real.close(),
    };
    return { transport, posted, releaseNext: () => gates.shift()?.(), inFlight: () => waiting };
  }

  it('keeps what arrived during a POST for the window instead of posting it when the POST returns, and ships it on close', async () => {
    const held = heldTransport();
    const sink = new PdpSessionEventSink(held.transport, { batchSize: 3, flushIntervalMs: 600_000, lanes: 1 });
    const session = new SessionRecorder({ sink, session: { id: 'window-1' }, protocol: 'sql', resource: ORDERS_DB, subjectToken: agent });
    const decisions = await decisionsIn('window-1', 4);
    session.start();
    session.statement(statement('SELECT 0', decisions[0]!));
    session.statement(statement('SELECT 1', decisions[1]!));
    // A full batch (3) leaves at once.
    assert.deepEqual(held.posted, [3]);
    session.statement(statement('SELECT 2', decisions[2]!));
    held.releaseNext();
    await eventually('the first batch shipped', () => sink.stats().shipped === 3, { intervalMs: 5 });
    // The entry that came during the round trip is not a batch of its own: it waits for company.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(held.posted, [3], 'no POST follows the round trip by itself');
    assert.equal(sink.stats().pending, 1);

    session.statement(statement('SELECT 3', decisions[3]!));
    session.end('client-closed');
    // A session's end ships at once, with what waited before it, in order.
    assert.deepEqual(held.posted, [3, 3]);
    held.releaseNext();
    const stats = await sink.close();
    held.transport.close();
    assert.deepEqual([stats.shipped, stats.dropped, stats.lost, stats.pending], [6, 0, 0, 0]);
    const records = sessionEventBodies(await pdp.auditEvents('sessions')).filter((body) => body.session.id === 'window-1') as Array<Record<string, any>>;
    assert.deepEqual(records.map((body) => body.statement?.text ?? body.event), ['session.start', 'SELECT 0', 'SELECT 1', 'SELECT 2', 'SELECT 3', 'session.end']);
  });

  it('ships a lone entry once the window has passed', async () => {
    const held = heldTransport();
    const sink = new PdpSessionEventSink(held.transport, { flushIntervalMs: 20, lanes: 1 });
    const session = new SessionRecorder({ sink, session: { id: 'window-2' }, protocol: 'sql', resource: ORDERS_DB, subjectToken: agent });
    const [decision] = await decisionsIn('window-2', 1);
    session.statement(statement('SELECT 0', decision!));
    await eventually('the window passed and a POST left', () => held.inFlight() === 1, { intervalMs: 5 });
    assert.deepEqual(held.posted, [2], 'the start and the statement, together');
    held.releaseNext();
    await eventually('the lone batch shipped', () => sink.stats().shipped === 2, { intervalMs: 5 });
    session.end('client-closed');
    held.releaseNext();
    await sink.close();
    held.transport.close();
  });
  it("carries each caller's token once per POST, and the PDP records every statement under the principal it names", async () => {
    const real = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    const bodies: Array<Record<string, any>> = [];
    const transport: PdpTransport = {
      call(method, path, body, options) {
        bodies.push(JSON.parse(JSON.stringify(body)) as Record<string, any>);
        return real.call(method, path, body, options);
      },
      close: () => real.close(),
    };
    const other = await pdp.token({ sub: 'agent:other', roles: ['reader'] });
    const sink = new PdpSessionEventSink(transport, { batchSize: 1000, flushIntervalMs: 600_000, lanes: 1 });
    const first = new SessionRecorder({ sink, session: { id: 'tokens-1' }, protocol: 'sql', resource: ORDERS_DB, subjectToken: agent });
    const second = new SessionRecorder({ sink, session: { id: 'tokens-2' }, protocol: 'sql', resource: ORDERS_DB, subjectToken: other });
    const firstDecisions = await decisionsIn('tokens-1', 3);
    const secondDecision = (await pdp.decide(sql(other, 'SELECT 9', 'tokens-2'))).body.decision_id as string;
    first.start();
    second.start();
    for (const [index, decision] of firstDecisions.entries()) first.statement(statement(`SELECT ${index}`, decision));
    second.statement(statement('SELECT 9', secondDecision));
    first.end('client-closed');
    const stats = await sink.close();
    transport.close();
    assert.deepEqual([stats.shipped, stats.dropped, stats.lost], [7, 0, 0]);
    assert.equal(bodies.length, 1);
    assert.deepEqual(bodies[0]!.subject_tokens, [agent, other]);
    assert.ok(bodies[0]!.events.every((event: Record<string, unknown>) => event.subject_token === undefined), 'no event carries a token of its own');
    assert.deepEqual(bodies[0]!.events.map((event: Record<string, unknown>) => event.subject_token_ref), [0, 1, 0, 0, 0, 1, 0]);
    const records = sessionEventBodies(await pdp.auditEvents('sessions')).filter((body) => body.session.id.startsWith('tokens-')) as Array<Record<string, any>>;
    assert.deepEqual(
      records.map((body) => [body.statement?.text ?? body.event, body.principal?.sub, body.decision_verified]),
      [
        ['session.start', 'agent:reporting', undefined],
        ['session.start', 'agent:other', undefined],
        ['SELECT 0', 'agent:reporting', true],
        ['SELECT 1', 'agent:reporting', true],
        ['SELECT 2', 'agent:reporting', true],
        ['SELECT 9', 'agent:other', true],
        ['session.end', 'agent:reporting', undefined],
      ],
    );
  });
});
