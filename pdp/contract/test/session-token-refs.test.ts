import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSessionEventsV1 } from '@portcullis/contract';

const statement = (extra: Record<string, unknown>) => ({
  event: 'session.statement',
  session: { id: 's1' },
  protocol: 'sql',
  resource: { type: 'postgres', name: 'orders-db' },
  statement: { text: 'SELECT 1' },
  decision_id: 'd1',
  status: 'success',
  duration_ms: 1,
  ...extra,
});

function refusal(body: unknown): { field: string; message: string } {
  const reading = readSessionEventsV1(body);
  assert.equal(reading.ok, false, `accepted ${JSON.stringify(body)}`);
  if (reading.ok) throw new Error('unreachable');
  return { field: reading.field, message: reading.message };
}

describe("a session batch's tokens, each sent once (subject_tokens, subject_token_ref)", () => {
  it('gives each event the token it names by place, as if it had been sent with it', () => {
    const reading = readSessionEventsV1({
      subject_tokens: ['token-a', 'token-b'],
      events: [statement({ subject_token_ref: 1 }), statement({ subject_token_ref: 0 }), statement({ subject_token: 'token-c' }), statement({})],
    });
    assert.ok(reading.ok, JSON.stringify(reading));
    assert.deepEqual(
      reading.value.map((event) => [event.subject_token, event.subject_token_ref]),
      [
        ['token-b', undefined],
        ['token-a', undefined],
        ['token-c', undefined],
        [undefined, undefined],
      ],
    );
    assert.ok(reading.value.every((event) => !Object.hasOwn(event, 'subject_token_ref')));
  });

  it('refuses a place the batch does not have, a place beside a token, and a place outside a batch', () => {
    assert.deepEqual(refusal({ subject_tokens: ['token-a'], events: [statement({}), statement({ subject_token_ref: 1 })] }), {
      field: 'events[1].subject_token_ref',
      message: 'events[1].subject_token_ref must be a place in subject_tokens (0 to 0)',
    });
    assert.equal(refusal({ events: [statement({ subject_token_ref: 0 })] }).field, 'events[0].subject_token_ref');
    assert.deepEqual(refusal({ subject_tokens: ['token-a'], events: [statement({ subject_token: 'token-a', subject_token_ref: 0 })] }).field, 'events[0].subject_token_ref');
    assert.equal(refusal(statement({ subject_token_ref: 0 })).field, 'subject_token_ref');
    assert.equal(refusal({ subject_tokens: [], events: [statement({})] }).field, 'subject_tokens');
  });
});
