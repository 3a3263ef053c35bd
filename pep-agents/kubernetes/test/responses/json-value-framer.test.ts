// The watch-stream framer: whole JSON values out, whatever the chunk boundaries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonFramingError, JsonValueFramer } from '../../src/responses/json-value-framer.ts';

const EVENTS = [
  { type: 'ADDED', object: { kind: 'Secret', data: { 'a}b': 'c3Vw', quote: 'x\\"}{[' } } },
  { type: 'BOOKMARK', object: { kind: 'Secret', metadata: { resourceVersion: '12' } } },
  { type: 'MODIFIED', object: { kind: 'ConfigMap', data: { path: 'C:\\dir\\', brace: '}\\"{', long: 'x'.repeat(300) } } },
  { type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version: "{"' } },
];
const STREAM = Buffer.from(`${EVENTS.map((event) => JSON.stringify(event)).join('\n')}\n \r\n\t`);

function frameInChunks(stream: Buffer, sizes: (index: number) => number): unknown[] {
  const framer = new JsonValueFramer(1024);
  const values: unknown[] = [];
  for (let at = 0, index = 0; at < stream.length; index += 1) {
    const size = Math.max(1, sizes(index));
    for (const value of framer.push(stream.subarray(at, at + size))) values.push(JSON.parse(value.toString('utf8')));
    at += size;
  }
  framer.end();
  return values;
}

describe('JSON value framer', () => {
  it('yields each event whole when the stream is cut at every possible byte', () => {
    for (let cut = 1; cut < STREAM.length; cut += 1) {
      const framer = new JsonValueFramer(1024);
      const values = [...framer.push(STREAM.subarray(0, cut)), ...framer.push(STREAM.subarray(cut))].map((value) => JSON.parse(value.toString('utf8')));
      framer.end();
      assert.deepEqual(values, EVENTS, `cut at ${cut}`);
    }
  });

  it('yields each event whole from byte-by-byte and uneven chunks', () => {
    assert.deepEqual(frameInChunks(STREAM, () => 1), EVENTS);
    assert.deepEqual(frameInChunks(STREAM, (index) => (index * 7) % 13), EVENTS);
  });

  it('yields a value as soon as its last byte arrives, before the next one begins', () => {
    const framer = new JsonValueFramer(1024);
    assert.equal(framer.push(Buffer.from('{"type":"ADDED","object":{}')).length, 0);
    assert.equal(framer.push(Buffer.from('}')).length, 1);
  });

  it('frames values that are not separated by newlines, and multi-byte text across a cut', () => {
    const text = Buffer.from('{"a":"é€😀"}[1,{"b":[]}]');
    for (let cut = 1; cut < text.length; cut += 1) {
      const framer = new JsonValueFramer(1024);
      const values = [...framer.push(text.subarray(0, cut)), ...framer.push(text.subarray(cut))].map((value) => JSON.parse(value.toString('utf8')));
      assert.deepEqual(values, [{ a: 'é€😀' }, [1, { b: [] }]]);
    }
  });

  it('refuses anything but objects and arrays between values, without quoting it', () => {
    const framer = new JsonValueFramer(1024);
    assert.throws(() => framer.push(Buffer.from('{"a":1}\nsecret-value')), (error: unknown) => error instanceof JsonFramingError && !String(error).includes('secret-value'));
  });

  it('refuses a value larger than the limit, also when it arrives in pieces', () => {
    const framer = new JsonValueFramer(16);
    framer.push(Buffer.from('{"data":"'));
    assert.throws(() => framer.push(Buffer.from('0123456789"}')), /exceeds 16 bytes/);
    assert.throws(() => new JsonValueFramer(16).push(Buffer.from('{"data":"0123456789abcdef"}')), /exceeds 16 bytes/);
  });

  it('refuses a stream that ends inside a value', () => {
    const framer = new JsonValueFramer(1024);
    framer.push(Buffer.from('{"type":"ADDED","object":{"data":{"k":"v'));
    assert.throws(() => framer.end(), /ended inside a JSON value/);
  });
});
