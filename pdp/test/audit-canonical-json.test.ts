import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalJson } from '../src/audit/trail/canonical-json.ts';

describe('canonical JSON', () => {
  test('sorts object keys by UTF-16 code units at every depth and writes no whitespace', () => {
    const value = { b: 1, a: { z: [3, { y: true, x: null }], é: 'e', Z: 0 }, '\u{1F600}': 'astral', '\uFF00': 'bmp' };
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FF00 in code units (not in code points).
    assert.equal(canonicalJson(value), '{"a":{"Z":0,"z":[3,{"x":null,"y":true}],"é":"e"},"b":1,"\u{1F600}":"astral","\uFF00":"bmp"}');
  });

  test('writes strings and numbers exactly as JSON.stringify, drops undefined members and nulls undefined array items', () => {
    const strings = ['quote " backslash \\ newline \n tab \t', '\u2028\u2029', '\u0000\u001f', 'lone \uD800 surrogate'];
    for (const text of strings) assert.equal(canonicalJson(text), JSON.stringify(text));
    for (const number of [0, -0, 1.5, 1e21, 1e-7, -123456789.125, Number.MAX_SAFE_INTEGER]) assert.equal(canonicalJson(number), JSON.stringify(number));
    assert.equal(canonicalJson({ keep: 1, drop: undefined, fn: () => 1 }), '{"keep":1}');
    assert.equal(canonicalJson([1, undefined, () => 1, NaN, Infinity]), '[1,null,null,null,null]');
  });

  test('gives a value and its JSON round trip the same canonical form, so producer and verifier hash alike', () => {
    const value = {
      time: new Date('2026-11-25T23:00:00.000Z'),
      nested: { missing: undefined, list: [undefined, { b: 2, a: 1 }], nan: NaN },
      custom: { toJSON: () => ({ shown: 'yes' }) },
      boxed: Object('text') as unknown,
    };
    assert.equal(canonicalJson(value), canonicalJson(JSON.parse(JSON.stringify(value))));
    assert.equal(canonicalJson(value), '{"boxed":"text","custom":{"shown":"yes"},"nested":{"list":[null,{"a":1,"b":2}],"nan":null},"time":"2026-11-25T23:00:00.000Z"}');
  });

  test('refuses values that have no JSON form instead of hashing something else', () => {
    assert.throws(() => canonicalJson(undefined), TypeError);
    assert.throws(() => canonicalJson({ big: 10n }), TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => canonicalJson(cyclic), /cycle/);
    // The same object twice is not a cycle.
    const shared = { a: 1 };
    assert.equal(canonicalJson([shared, shared]), '[{"a":1},{"a":1}]');
  });
});
