import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NativeRequest, NativeResponse } from '../src/http/native-http.ts';
import type { AuditEvent } from '../src/audit/audit-event.ts';
import type { AuditRecorder } from '../src/audit/trail/audit-trail.ts';
import { toOcsfRecord } from '../src/audit/ocsf/ocsf-record.ts';
import { buildSessionAuditEvent } from '../src/audit/events/session-audit-event.ts';
import { MAX_RUN_TEXT_CHARS, MAX_STATEMENTS_PER_RECORD, sessionRecordsOfBatch } from '../src/audit/events/session-statement-runs.ts';
import type { SessionEventV1 } from '@portcullis/contract';
import { withPrincipal } from '../src/audit/events/posted-session-event.ts';
import { parseSessionEvents } from '../src/http/contract-body.ts';
import { PortcullisError } from '../src/errors/portcullis-error.ts';
import { sessionEventsRoute } from '../src/http/routes/session-events-route.ts';
import { PdpMetrics } from '../src/metrics/pdp-metrics.ts';
import type { TokenVerifier, VerifyResult } from '../src/identity/token-verifier.ts';
import { randomBytes } from 'node:crypto';
import { DecisionSeal } from '../src/decisions/decision-seal.ts';
import { readResourceBinding, type ResourceBinding } from '../src/identity/resource-binding.ts';
import { PRODUCT } from './audit-fixtures.ts';

// Posted events in the PEP contract's own (wire) form, parsed by the real parser.
let sequence = 0;
const RESOURCE = { type: 'postgres', name: 'orders-db', environment: 'production' };

/** `token` null: posted without a subject token. */
function base(session: string, token: string | null): Omit<SessionEventV1, 'event'> {
  sequence += 1;
  return {
    event_id: `evt-${sequence}`,
    time: new Date(Date.parse('2026-11-25T10:00:00.000Z') + sequence).toISOString(),
    ...(token === null ? {} : { subject_token: token }),
    session: { id: session, client_addr: '10.0.0.7:51234' },
    protocol: 'sql',
    resource: RESOURCE,
  };
}

/** The route checks decision ids: these are issued, as the PDP issues them, to the posting PEP. */
const SEAL = new DecisionSeal(randomBytes(32));
const PEP_SUB = 'pep-orders-db';
const BINDING = (readResourceBinding(['orders-db', 'other-db'], 'portcullis_resources') as { ok: true; binding: ResourceBinding }).binding;

function statement(session: string, text: string, token: string | null = 'token-a', extra: Partial<SessionEventV1> = {}): SessionEventV1 {
  const verified = token === null ? undefined : PRINCIPALS[token];
  const principal = verified?.ok ? { iss: verified.principal.iss, sub: verified.principal.sub } : null;
  const decisionId = SEAL.issue({ pepSub: PEP_SUB, resource: extra.resource ?? RESOURCE, principal, sessionId: extra.session?.id ?? session }, { kind: 'reuse', until: Date.now() + 300_000 });
  return { ...base(session, token), event: 'session.statement', statement: { text, kind: 'select' }, decision_id: decisionId, status: 'success', duration_ms: 1.25, rows: 2, ...extra } as SessionEventV1;
}

function start(session: string, token = 'token-a'): SessionEventV1 {
  return { ...base(session, token), event: 'session.start' };
}

function end(session: string, statements: number, token = 'token-a'): SessionEventV1 {
  return { ...base(session, token), event: 'session.end', duration_ms: 50, statements, rows: 2 * statements, bytes: 0, masked_cells: 0 };
}

const PRINCIPALS: Record<string, VerifyResult> = {
  'token-a': { ok: true, principal: { sub: 'agent-a', iss: 'https://idp.example.test', kind: 'agent', roles: ['reader'], aud: ['portcullis'], claims: {} } },
  'token-b': { ok: true, principal: { sub: 'agent-b', iss: 'https://idp.example.test', kind: 'agent', roles: ['reader'], aud: ['portcullis'], claims: {} } },
};

/** Knows two tokens and counts how often it was asked about each. */
class CountingVerifier implements TokenVerifier {
  readonly asked = new Map<string, number>();
  async verify(token: string | undefined): Promise<VerifyResult> {
    this.asked.set(token ?? '', (this.asked.get(token ?? '') ?? 0) + 1);
    return (token && PRINCIPALS[token]) || { ok: false, code: 'token-invalid', message: 'unknown token' };
  }
}

/** Takes `capacity` records, then refuses, as a full audit trail does. */
class RecordingAudit implements AuditRecorder {
  readonly events: AuditEvent[] = [];
  constructor(private readonly capacity = Infinity) {}
  record(event: AuditEvent): boolean {
    if (this.events.length >= this.capacity) return false;
    this.events.push(JSON.parse(JSON.stringify(event)) as AuditEvent);
    return true;
  }
  async durable(): Promise<void> {}
}

/** Runs the real route handler; answers its 202 body or throws what it threw. */
async function post(events: SessionEventV1[], audit: AuditRecorder, verifier: TokenVerifier = new CountingVerifier(), metrics = new PdpMetrics()): Promise<{ status: number; body: unknown }> {
  const answer: { status: number; body: unknown } = { status: 0, body: undefined };
  const response = {
    locals: { caller: { sub: PEP_SUB, roles: ['pep'], resources: BINDING } },
    writeHead(code: number) {
      answer.status = code;
      return this;
    },
    end(text: string) {
      answer.body = JSON.parse(text);
      return this;
    },
  };
  await sessionEventsRoute(verifier, SEAL, audit, metrics, () => undefined)({ body: { events } } as unknown as NativeRequest, response as unknown as NativeResponse);
  return answer;
}

const AGENT_A = { authenticated: true as const, sub: 'agent-a', iss: 'https://idp.example.test', kind: 'agent' as const, roles: ['reader'] };

function bodies(audit: RecordingAudit): Record<string, unknown>[] {
  return audit.events.map((event) => event.body);
}

/** Per record: its event name, and the statement texts it holds. */
function shape(audit: RecordingAudit): Array<[string, string[]]> {
  return bodies(audit).map((body) => {
    const held = body.event === 'session.statements' ? (body.statements as Array<Record<string, any>>) : body.event === 'session.statement' ? [body as Record<string, any>] : [];
    return [`${body.event as string}@${(body.session as { id: string }).id}`, held.map((entry) => entry.statement.text as string)];
  });
}

describe('session statement runs', () => {
  test('a session\'s statements posted together are one record; start and end stay records of their own, in place', async () => {
    const audit = new RecordingAudit();
    const answer = await post([start('s1'), statement('s1', 'a'), statement('s1', 'b'), statement('s1', 'c'), end('s1', 3)], audit);
    assert.deepEqual(answer, { status: 202, body: { accepted: 5 } });
    assert.deepEqual(shape(audit), [['session.start@s1', []], ['session.statements@s1', ['a', 'b', 'c']], ['session.end@s1', []]]);
    const run = bodies(audit)[1]!;
    assert.equal(run.time, (run.statements as Array<{ time: string }>)[0]!.time, 'the record is timed by its first statement');
    assert.notEqual(run.event_id, (run.statements as Array<{ event_id: string }>)[0]!.event_id, 'the record has its own id');
    assert.deepEqual(run.totals, { statements: 3, failures: 0, duration_ms: 3.75, rows: 6, bytes: 0, masked_cells: 0 });
    assert.deepEqual(run.principal, AGENT_A);
  });

  test('the metrics count every statement that reached the trail, grouped or not', async () => {
    const metrics = new PdpMetrics();
    await post([start('s1'), statement('s1', 'a'), statement('s1', 'b'), statement('s1', 'c'), end('s1', 3)], new RecordingAudit(), new CountingVerifier(), metrics);
    const text = await metrics.registry.metrics();
    assert.match(text, /portcullis_session_events_recorded_total\{event="session\.statement"\} 3/);
    assert.match(text, /portcullis_session_events_recorded_total\{event="session\.start"\} 1/);
  });

  test('each entry holds exactly the per-statement fields a session.statement record has', () => {
    const posted = parseSessionEvents({ events: [
      statement('s1', 'SELECT 1', 'token-a', { decision_reused: true, rows: 4, bytes: 80, masked_cells: 3 }),
      statement('s1', 'SELECT 2', 'token-a', { status: 'failure', error: 'relation does not exist', rows: undefined }),
    ] });
    const [run] = sessionRecordsOfBatch(posted, () => AGENT_A, 'pep-orders-db');
    const alone = posted.map((event) => buildSessionAuditEvent(withPrincipal(event, AGENT_A, 'pep-orders-db')).body);
    const common = ['event', 'schema_version', 'protocol', 'session', 'principal', 'pep', 'resource'];
    const perStatement = alone.map((body) => Object.fromEntries(Object.entries(body).filter(([name]) => !common.includes(name))));
    assert.deepEqual(run!.event.body.statements, perStatement);
    assert.deepEqual(Object.keys(perStatement[0]!), ['event_id', 'time', 'statement', 'decision_id', 'decision_reused', 'status', 'duration_ms', 'rows', 'bytes', 'masked_cells']);
    for (const name of common.slice(2)) assert.deepEqual(run!.event.body[name], alone[0]![name], name);
  });

  test('a statement alone in its run is a plain session.statement record, as before grouping', async () => {
    const audit = new RecordingAudit();
    const lone = statement('s1', 'only');
    await post([start('s1'), lone, end('s1', 1)], audit);
    const [parsed] = parseSessionEvents({ events: [lone] });
    // The route adds what it checked: when it received the event, and that the decision is one it issued.
    const receivedAt = new Date(audit.events[1]!.body.received_at as string);
    const expected = buildSessionAuditEvent(withPrincipal({ ...parsed!, receivedAt, decisionVerified: true } as typeof parsed & object, AGENT_A, 'pep-orders-db'));
    assert.deepEqual(audit.events[1], JSON.parse(JSON.stringify(expected)));
    assert.equal(toOcsfRecord(audit.events[1]!, PRODUCT).metadata.event_code, 'session.statement');
  });

  test('runs are per session: interleaved sessions each get their own record, placed at its first statement', async () => {
    const audit = new RecordingAudit();
    const answer = await post([
      start('s1'), statement('s1', 'a1'), start('s2'), statement('s2', 'b1'), statement('s1', 'a2'), statement('s2', 'b2'),
      statement('s1', 'a3'), end('s2', 2), statement('s2', 'b3'), end('s1', 3),
    ], audit);
    assert.deepEqual(answer.body, { accepted: 10 });
    assert.deepEqual(shape(audit), [
      ['session.start@s1', []],
      ['session.statements@s1', ['a1', 'a2', 'a3']],
      ['session.start@s2', []],
      ['session.statements@s2', ['b1', 'b2']],
      ['session.end@s2', []],
      // After its session's end a statement starts a new run (here: alone).
      ['session.statement@s2', ['b3']],
      ['session.end@s1', []],
    ]);
  });

  test('another subject token, protocol, resource or client address starts a new run', async () => {
    const audit = new RecordingAudit();
    await post([
      statement('s1', 'a'), statement('s1', 'b'), statement('s1', 'c', 'token-b'), statement('s1', 'd', 'token-b'), statement('s1', 'e'),
      statement('s1', 'f', null), statement('s1', 'g', null),
      statement('s1', 'h', 'token-a', { resource: { ...RESOURCE, name: 'other-db' } }), statement('s1', 'i', 'token-a', { resource: { ...RESOURCE, name: 'other-db' } }),
      statement('s1', 'j', 'token-a', { protocol: 'http' }), statement('s1', 'k', 'token-a', { session: { id: 's1', client_addr: '10.0.0.8:1' } }),
    ], audit);
    assert.deepEqual(shape(audit).map(([, texts]) => texts.join('')), ['ab', 'cd', 'e', 'fg', 'hi', 'j', 'k']);
    const principals = bodies(audit).map((body) => (body.principal as { sub?: string; error?: string }).sub ?? (body.principal as { error: string }).error);
    assert.deepEqual(principals, ['agent-a', 'agent-b', 'agent-a', 'token-missing', 'agent-a', 'agent-a', 'agent-a']);
    assert.equal((bodies(audit)[4]!.resource as { name: string }).name, 'other-db');
  });

  test(`a run holds at most ${MAX_STATEMENTS_PER_RECORD} statements; the rest continue in the next record`, async () => {
    const audit = new RecordingAudit();
    const texts = Array.from({ length: 450 }, (_, index) => `SELECT ${index}`);
    const answer = await post([start('s1'), ...texts.slice(0, 450).map((text) => statement('s1', text)), end('s1', 450)], audit);
    assert.deepEqual(answer.body, { accepted: 452 });
    assert.deepEqual(shape(audit).map(([name, held]) => [name, held.length]), [
      ['session.start@s1', 0], ['session.statements@s1', 200], ['session.statements@s1', 200], ['session.statements@s1', 50], ['session.end@s1', 0],
    ]);
    assert.deepEqual(shape(audit).flatMap(([, held]) => held), texts.slice(0, 450), 'every statement, in order');
    // Exactly one past the cap: the last one is alone, a plain record.
    const exact = new RecordingAudit();
    await post(texts.slice(0, 2 * MAX_STATEMENTS_PER_RECORD + 1).map((text) => statement('s9', text)), exact);
    assert.deepEqual(shape(exact).map(([name, held]) => [name, held.length]), [['session.statements@s9', 200], ['session.statements@s9', 200], ['session.statement@s9', 1]]);
  });

  test('a run also ends at its text budget, so a record stays within a Kafka message; a longer statement is alone, as before', async () => {
    const big = (tag: string): string => `SELECT '${tag}${'x'.repeat(40 * 1024)}'`;
    const huge = `SELECT '${'y'.repeat(MAX_RUN_TEXT_CHARS)}'`;
    const audit = new RecordingAudit();
    await post([statement('s1', big('a')), statement('s1', big('b')), statement('s1', big('c')), statement('s1', 'SELECT 1'), statement('s1', huge), statement('s1', 'SELECT 2')], audit);
    assert.deepEqual(shape(audit).map(([name, held]) => [name, held.map((text) => text.slice(0, 9))]), [
      ['session.statements@s1', ["SELECT 'a", "SELECT 'b"]],
      ['session.statements@s1', ["SELECT 'c", 'SELECT 1']],
      ['session.statement@s1', ["SELECT 'y"]],
      ['session.statement@s1', ['SELECT 2']],
    ]);
    const largest = Math.max(...audit.events.map((event) => Buffer.byteLength(JSON.stringify(toOcsfRecord(event, PRODUCT)))));
    assert.ok(largest < 1_000_000, `every record fits a default Kafka message: ${largest} bytes`);
  });

  test('each distinct subject token is verified once per post', async () => {
    const verifier = new CountingVerifier();
    const events = [start('s1'), ...Array.from({ length: 40 }, (_, index) => statement(index % 2 ? 's1' : 's2', `q${index}`, index % 3 ? 'token-a' : 'token-b')), statement('s3', 'x', null), end('s1', 20)];
    await post(events, new RecordingAudit(), verifier);
    assert.deepEqual(Object.fromEntries(verifier.asked), { 'token-a': 1, 'token-b': 1 }, 'a missing token is not verified at all');
  });

  test('an audit trail that cannot take the records refuses the post with the events it took, counted in posted events', async () => {
    const events = [start('s1'), statement('s1', 'a'), start('s2'), statement('s2', 'b'), statement('s1', 'c'), end('s1', 2)];
    // Records: start s1 (event 0), run s1 [a, c] (events 1, 4), start s2 (event 2), lone b (event 3), end s1 (event 5).
    const none = await post(events, new RecordingAudit(0)).catch((error: unknown) => error);
    assert.ok(none instanceof PortcullisError);
    assert.deepEqual([none.code, none.httpStatus, none.details], ['audit-unavailable', 503, { accepted: 0 }]);
    const some = await post(events, new RecordingAudit(3)).catch((error: unknown) => error);
    assert.ok(some instanceof PortcullisError);
    // The fourth record (b) begins at event 3: events 0-2 are all recorded, so the PEP resends from 3.
    assert.deepEqual(some.details, { accepted: 3 });
  });
});
