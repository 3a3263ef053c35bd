// The gateway's reading of an upstream server's event stream: events however the bytes are cut,
// every line ending SSE allows, multi-line data, comments and empty events skipped, and an event
// past the bound refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SseEvent, SseEventReader } from '../../src/upstream/sse-event-reader.ts';

function read(chunks: readonly string[], maxChars = 1024): { events: SseEvent[]; accepted: boolean } {
  const events: SseEvent[] = [];
  const reader = new SseEventReader(maxChars, (event) => events.push(event));
  let accepted = true;
  for (const chunk of chunks) accepted &&= reader.push(chunk);
  return { events, accepted };
}

describe('SseEventReader', () => {
  const stream = ': keepalive\n\nevent: message\nid: 7\ndata: {"a":1}\n\ndata: line one\ndata: line two\n\nevent: other\ndata: x\n\n';

  it('reads events, joins data lines, names unnamed events message and skips comments', () => {
    assert.deepEqual(read([stream]).events, [
      { event: 'message', data: '{"a":1}' },
      { event: 'message', data: 'line one\nline two' },
      { event: 'other', data: 'x' },
    ]);
  });

  it('reads the same events whatever the chunks, one character at a time included', () => {
    const whole = read([stream]).events;
    assert.deepEqual(read([...stream]).events, whole);
    for (const cut of [1, 5, 13, 30, 50]) assert.deepEqual(read([stream.slice(0, cut), stream.slice(cut)]).events, whole);
  });

  it('takes CR LF and lone CR line endings, a CR LF cut between two chunks included', () => {
    const crlf = stream.replaceAll('\n', '\r\n');
    const whole = read([stream]).events;
    assert.deepEqual(read([crlf]).events, whole);
    assert.deepEqual(read([...crlf]).events, whole);
    assert.deepEqual(read([stream.replaceAll('\n', '\r')]).events, whole);
  });

  it('skips events whose data is empty: a priming event (an id and an empty data line) and a keep-alive', () => {
    const primed = 'id: 1f0c-0\ndata:\n\nid: 1f0c-1\ndata: \n\nevent: message\ndata: {"a":1}\n\ndata\n\n';
    assert.deepEqual(read([primed]).events, [{ event: 'message', data: '{"a":1}' }]);
    assert.deepEqual(read([...primed]).events, [{ event: 'message', data: '{"a":1}' }]);
    // Two data lines, both empty, join to a line break: data, so the event is handed on.
    assert.deepEqual(read(['data:\ndata:\n\n']).events, [{ event: 'message', data: '\n' }]);
  });

  it('refuses an event past the bound, in one line or in many', () => {
    assert.equal(read([`data: ${'x'.repeat(2000)}`]).accepted, false);
    assert.equal(read(Array.from({ length: 100 }, () => 'data: 0123456789abcdef\n')).accepted, false);
    assert.equal(read(Array.from({ length: 100 }, () => 'data: 0123456789abcdef\n\n')).accepted, true);
  });
});
