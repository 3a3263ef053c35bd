import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { DecisionRequestV1, readSessionEventsV1, SessionEventBatchV1 } from '@portcullis/contract';
import { knownFieldsCopy } from '../src/validation/known-fields-copy.ts';

/** What contract readings were before: TypeBox's Clean on a deep copy. */
function typeboxClean(schema: Parameters<typeof Value.Clean>[0], value: unknown): unknown {
  return Value.Clean(schema, structuredClone(value));
}

const base = {
  event_id: 'e1',
  time: '2026-12-07T08:00:00.000Z',
  subject_token: 'eyJ…',
  session: { id: 's1', client_addr: '10.0.0.7', extra: 'dropped' },
  protocol: 'sql',
  resource: { type: 'postgres', name: 'orders-db', environment: 'production', labels: { team: 'x' } },
  unknown_top: { nested: true },
};

const batch = {
  events: [
    { ...base, event: 'session.start' },
    {
      ...base,
      event: 'session.statement',
      statement: { text: 'SELECT 1', kind: 'select', extra: 1 },
      decision_id: 'd1',
      decision_reused: true,
      status: 'success',
      duration_ms: 0.2,
      rows: 1,
      bytes: 20,
      masked_cells: 0,
      error: 'none',
      surplus: [1, 2],
    },
    {
      ...base,
      protocol: 'shell',
      event: 'session.recording',
      decision_id: 'd2',
      recording: {
        format: 'asciicast-v2',
        seq: 0,
        header: { version: 2, width: 80, height: 24, env: { TERM: 'xterm', OTHER: 'dropped' }, extra: 1 },
        events: [
          [0.1, 'o', 'hello'],
          [0.2, 'i', 'ls\r'],
        ],
        final: false,
        extra: 'dropped',
      },
    },
    { ...base, event: 'session.end', duration_ms: 5, statements: 1, rows: 1, bytes: 20, masked_cells: 0, reason: 'client-closed' },
  ],
  extra: 'dropped',
};

describe('a contract reading copies the members the contract names', () => {
  it('gives what TypeBox Clean on a deep copy gave, member order included, for every session event kind', () => {
    const reading = readSessionEventsV1(batch);
    assert.ok(reading.ok, JSON.stringify(reading));
    const expected = typeboxClean(SessionEventBatchV1, batch) as { events: unknown[] };
    assert.deepEqual(reading.value, expected.events);
    assert.equal(JSON.stringify(reading.value), JSON.stringify(expected.events));
    assert.equal(Object.hasOwn((reading.value[1] as { session: object }).session, 'extra'), false);
  });

  it('gives what TypeBox gave for a decision request (records, unions without a discriminator)', () => {
    const request = {
      subject_token: 't',
      resource: { type: 'postgres', name: 'orders-db', labels: { team: 'payments' }, extra: 1 },
      action: { type: 'sql', sql: 'SELECT $1', parameters: [{ value: '7', type_oid: 23, extra: 1 }, { value: null }], extra: 1 },
      session: { id: 's1', extra: 1 },
      extra: 1,
    };
    const copy = knownFieldsCopy(DecisionRequestV1)(request);
    assert.equal(JSON.stringify(copy), JSON.stringify(typeboxClean(DecisionRequestV1, request)));
  });

  it('is a copy: changing it leaves the posted value as it was', () => {
    const posted = structuredClone(batch);
    const reading = readSessionEventsV1(posted);
    assert.ok(reading.ok);
    (reading.value[1] as { statement: { text: string } }).statement.text = 'changed';
    (reading.value[2] as { recording: { events: unknown[][] } }).recording.events[0]![2] = 'changed';
    assert.deepEqual(posted, batch);
  });

  it('drops a "__proto__" member without making it the prototype of what it copies', () => {
    const posted = JSON.parse(
      '{"events":[{"event":"session.start","session":{"id":"s1","__proto__":{"admin":true}},"protocol":"sql","resource":{"type":"postgres","name":"db"},"__proto__":{"polluted":1}}]}',
    ) as unknown;
    const reading = readSessionEventsV1(posted);
    assert.ok(reading.ok);
    const event = reading.value[0] as Record<string, unknown> & { session: Record<string, unknown> };
    assert.equal(Object.getPrototypeOf(event), Object.prototype);
    assert.equal(Object.getPrototypeOf(event.session), Object.prototype);
    assert.equal(event.polluted, undefined);
    assert.equal(event.session.admin, undefined);
    assert.deepEqual(Object.keys(event.session), ['id']);
  });
});
