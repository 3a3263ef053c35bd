import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditEvent } from '../src/audit/audit-event.ts';
import { buildSessionAuditEvent } from '../src/audit/events/session-audit-event.ts';
import { buildShadowDifferenceEvent } from '../src/audit/events/shadow-audit-event.ts';
import { toOcsfRecord } from '../src/audit/ocsf/ocsf-record.ts';
import { auditBodyMember, auditBodyOf } from '../src/audit/ocsf/portcullis-body.ts';
import { HashChain } from '../src/audit/trail/hash-chain.ts';
import { redactCredentials } from '../src/audit/ocsf/credential-redaction.ts';
import {
  EXPIRED, HTTP_POST, HUMAN, K8S_DELETE, PRODUCT, SHELL_CURL,
  approvalEvent, bundleActivationEvent, decisionEvent, sessionStatementEvent, sessionStatementsEvent, sqlAction,
} from './audit-fixtures.ts';

const chain = new HashChain('pdp-test-body');

/** The record as the trail writes it (mapped, chained, serialised) and read back. */
function stored(event: AuditEvent): Record<string, unknown> {
  return JSON.parse(JSON.stringify(chain.link(event.stream, toOcsfRecord(event, PRODUCT)))) as Record<string, unknown>;
}

const storedBody = (record: Record<string, unknown>): Record<string, unknown> => (record.unmapped as { portcullis: Record<string, unknown> }).portcullis;

/** The body a record must give back: the event's own, credentials removed, plus what the record adds (redacted, chain). */
function expectedBody(event: AuditEvent, record: Record<string, unknown>): Record<string, unknown> {
  const { value, redacted } = redactCredentials(event.body, PRODUCT.redactSqlText);
  return JSON.parse(JSON.stringify({ ...value, ...(redacted.length > 0 ? { redacted } : {}), chain: storedBody(record).chain })) as Record<string, unknown>;
}

const session = (overrides: Record<string, unknown>): AuditEvent => buildSessionAuditEvent({
  event: 'session.start',
  eventId: 'evt-start',
  time: new Date('2026-11-25T10:00:00.000Z'),
  receivedAt: new Date('2026-11-25T10:00:00.250Z'),
  session: { id: 'sess-2', client_addr: '10.1.2.3:51234' },
  protocol: 'sql',
  principal: { authenticated: true, sub: 'agent-7', iss: 'https://idp.example.test', kind: 'agent', roles: ['reader'] },
  pep: { sub: 'pep-orders-db' },
  resource: { type: 'postgres', name: 'orders-db', environment: 'production', labels: { team: 'payments' } },
  ...overrides,
} as Parameters<typeof buildSessionAuditEvent>[0]);

const MCP_CALL = { type: 'mcp', method: 'tools/call', tool: 'query', arguments: { sql: 'SELECT 1', password: 'hunter2' } } as unknown as typeof HTTP_POST;

const BODY_KINDS: Record<string, () => AuditEvent> = {
  'an allowed SQL select in a session': () => decisionEvent({ session: { id: 'sess-9', client_addr: '10.0.0.8:5555' } }),
  'a denied SQL delete without a session': () => decisionEvent({ effect: 'deny', action: sqlAction('DELETE FROM orders', 'delete') }),
  'an approval required': () => decisionEvent({ effect: 'approval_required', action: sqlAction('UPDATE orders SET x = 1 WHERE id = 2', 'update') }),
  'a human on Kubernetes': () => decisionEvent({ verification: HUMAN, action: K8S_DELETE, resource: { type: 'kubernetes', name: 'prod' } }),
  'a shell command over SSH from a host name': () => decisionEvent({ action: SHELL_CURL, resource: { type: 'ssh', name: 'web-1' }, session: { id: 's-3', client_addr: 'bastion.internal' } }),
  'an MCP tool call': () => decisionEvent({ action: MCP_CALL, resource: { type: 'mcp', name: 'db-tools' }, session: { id: 's-6', client_addr: '10.0.0.4' } }),
  'an HTTP call from IPv6 with a port': () => decisionEvent({ action: HTTP_POST, resource: { type: 'http', name: 'billing' }, session: { id: 's-4', client_addr: '[::1]:5432' } }),
  'a session without a client address': () => decisionEvent({ session: { id: 's-5' } }),
  'a session without an id': () => decisionEvent({ session: { client_addr: '10.0.0.9' } }),
  'an unauthenticated caller': () => decisionEvent({ verification: EXPIRED, effect: 'deny' }),
  'a decision without a policy revision': () => decisionEvent({ revision: null }),
  'reasons whose message holds the separator': () => decisionEvent({ effect: 'deny', reasons: [{ code: 'a', message: 'one; two' }, { code: 'b', message: 'x: y' }] }),
  'reasons with a member the detail does not hold': () => decisionEvent({ effect: 'deny', reasons: [{ code: 'a', message: 'm', rule: 'r1' } as { code: string; message: string }] }),
  'an SQL action without its text': () => decisionEvent({ action: { type: 'sql', parse_error: 'empty', statements: [] } }),
  'a statement': () => sessionStatementEvent('SELECT 1'),
  'a run of statements': () => sessionStatementsEvent(['SELECT 1', 'SELECT 2', 'DELETE FROM t WHERE id = 3']),
  'a session start with a received time': () => session({}),
  'a session end': () => session({ event: 'session.end', eventId: 'evt-end', durationMs: 1200, statements: 3, rows: 4, bytes: 50, maskedCells: 0, reason: 'client-closed' }),
  'a terminal session recording chunk': () => session({ event: 'session.recording', eventId: 'evt-rec', protocol: 'shell', decisionId: 'dec-1', recording: { format: 'asciicast-v2', seq: 0, header: { version: 2, width: 80, height: 24 }, events: [[0.1, 'o', '$ ']], final: true } }),
  'a session start whose time the PEP wrote without milliseconds': () => ({ ...session({}), body: { ...session({}).body, time: '2026-11-25T10:00:00Z' } }),
  'an approval request': () => approvalEvent('approval.requested'),
  'an approval granted': () => approvalEvent('approval.approved', ['bob', 'carol']),
  'a live bundle activation': () => bundleActivationEvent('rev-42', 'live'),
  'a shadow bundle activation': () => bundleActivationEvent('rev-43', 'shadow'),
  'a shadow difference': () => buildShadowDifferenceEvent({
    decisionId: 'dec-77', changes: ['effect'], live: { revision: 'r1', effect: 'allow' },
    shadow: { revision: 'r2', effect: 'deny', reasons: [{ code: 'x', message: 'y' }], obligations: { mask: [], record: true } },
    principalSub: 'agent-7', resource: { type: 'postgres', name: 'orders-db' }, actionType: 'sql',
  }),
  'a Data API query': () => ({ stream: 'decisions', key: 'q-1', body: { event: 'data-query', schema_version: 1, decision_id: 'q-1', time: new Date().toISOString(), path: 'portcullis/allow', pep: { sub: 'opa-client' }, result: true } }),
  'an unknown event': () => ({ stream: 'decisions', key: 'x-1', body: { event: 'future.thing', time: '2026-11-25T10:00:00.000Z', detail: { a: 1 } } }),
};

describe('audit record bodies: auditBodyOf gives every kind of body back whole', () => {
  for (const [name, build] of Object.entries(BODY_KINDS)) {
    test(`${name}`, () => {
      const event = build();
      const record = stored(event);
      const body = expectedBody(event, record);
      assert.deepStrictEqual(auditBodyOf(record), body);
      for (const [member, value] of Object.entries(body)) assert.deepStrictEqual(auditBodyMember(record, member), value, member);
    });
  }

  test('what the OCSF attributes hold is not stored again under unmapped.portcullis', () => {
    const record = stored(decisionEvent({ session: { id: 'sess-9', client_addr: '10.0.0.8:5555' } }));
    const portcullis = storedBody(record);
    for (const member of ['event', 'time', 'decision_id', 'principal', 'session', 'effect', 'reasons', 'policy_revision']) assert.equal(portcullis[member], undefined, member);
    assert.deepEqual(portcullis.resource, { environment: 'production', labels: { team: 'payments' } });
    // What OCSF has no place for stays: the PEP with its roles, the enriched action, obligations, timings.
    for (const member of ['pep', 'action', 'obligations', 'timings_us', 'chain']) assert.ok(portcullis[member] !== undefined, member);
    const text = JSON.stringify(record);
    assert.equal(text.split('"sess-9"').length - 1, 2, 'the session id: actor.session.uid and metadata.correlation_uid only');
    assert.equal(text.split('SELECT id FROM orders').length - 1, 2, 'the SQL text: query_info.query_string and the message only');
    assert.equal(text.split(String(auditBodyOf(record)?.decision_id)).length - 1, 2, 'the decision id: metadata.uid and query_info.uid only (correlation_uid is the session)');
  });

  test('a statement posted alone keeps neither its text, nor its decision id, nor its bytes beside query_info', () => {
    const record = stored(sessionStatementEvent('SELECT email FROM users WHERE id = 7'));
    const portcullis = storedBody(record);
    assert.equal(portcullis.decision_id, undefined);
    assert.equal(portcullis.bytes, undefined);
    assert.equal((portcullis.statement as Record<string, unknown>).text, undefined);
    assert.equal(JSON.stringify(record).split('SELECT email FROM users WHERE id = 7').length - 1, 2, 'query_info.query_string and the message only');
  });

  test('a member the attributes would misstate is stored whole and named so', () => {
    const record = stored(decisionEvent({ action: { type: 'sql', parse_error: 'empty', statements: [] } }));
    assert.deepEqual(storedBody(record).whole, ['action']);
    assert.deepEqual(storedBody(record).action, { type: 'sql', parse_error: 'empty', statements: [] });
    const textless = stored(decisionEvent({ action: { type: 'sql', sql: 'SELECT 1', statements: [{ kind: 'select' }] } }));
    assert.deepEqual(storedBody(textless).whole, ['action'], 'a lone statement without a text is not given the action\'s');
    assert.deepEqual(auditBodyOf(textless)?.action, { type: 'sql', sql: 'SELECT 1', statements: [{ kind: 'select' }] });
  });

  test('a record written with the whole body under unmapped.portcullis reads as it is', () => {
    const event = decisionEvent({ session: { id: 'sess-1', client_addr: '10.0.0.1' } });
    const record = stored(event);
    const whole = { ...JSON.parse(JSON.stringify(event.body)), chain: storedBody(record).chain };
    const written = { ...record, unmapped: { portcullis: whole } };
    assert.deepStrictEqual(auditBodyOf(written), whole);
    assert.equal(auditBodyMember(written, 'effect'), 'allow');
  });

  test('anything that is not an audit record has no body', () => {
    assert.equal(auditBodyOf({ type: 'portcullis.audit.digest.v1' }), undefined);
    assert.equal(auditBodyOf('garbage'), undefined);
    assert.equal(auditBodyMember(null, 'event'), undefined);
  });
});
