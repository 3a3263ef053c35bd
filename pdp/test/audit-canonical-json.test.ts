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

  test('sorts array-index-like keys and an own __proto__ member as text too (JSON.stringify alone puts index keys first)', () => {
    assert.equal(canonicalJson({ b: 1, 10: 'ten', 2: 'two', '01': 'zero-one', a: { 1: true, '-1': false } }), '{"01":"zero-one","10":"ten","2":"two","a":{"-1":false,"1":true},"b":1}');
    const parsed = JSON.parse('{"z":1,"__proto__":{"polluted":true},"a":2}') as unknown;
    assert.equal(canonicalJson(parsed), '{"__proto__":{"polluted":true},"a":2,"z":1}');
    assert.equal(canonicalJson([{ y: 1, x: { 3: 'c' } }]), '[{"x":{"3":"c"},"y":1}]');
  });

  test('runs each toJSON and getter once, and never a toJSON that a toJSON returned', () => {
    let reads = 0;
    const withGetter = { get counted() { reads += 1; return { b: reads, a: 0 }; } };
    assert.equal(canonicalJson({ z: withGetter }), '{"z":{"counted":{"a":0,"b":1}}}');
    assert.equal(reads, 1);
    let calls = 0;
    const nested = { toJSON: () => { calls += 1; return { b: 2, toJSON: () => 'must not run', a: 1 }; } };
    assert.equal(canonicalJson({ nested }), '{"nested":{"a":1,"b":2}}');
    assert.equal(calls, 1);
    const keys: string[] = [];
    const spy = { toJSON: (key: string) => { keys.push(key); return key; } };
    assert.equal(canonicalJson({ m: spy, list: [spy] }), '{"list":["0"],"m":"m"}');
    assert.deepEqual(keys.sort(), ['0', 'm']);
  });

  test('writes the same text as a member-by-member reference for thousands of random values', () => {
    // A plain reference: sort every object's keys, write every member, nothing reused.
    const reference = (value: unknown, key = ''): string | undefined => {
      let v = value;
      if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON: (k: string) => unknown }).toJSON(key);
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
      if (typeof v !== 'object' || v === null) return JSON.stringify(v);
      if (Array.isArray(v)) return `[${v.map((item, index) => reference(item, String(index)) ?? 'null').join(',')}]`;
      const members = Object.keys(v).sort().flatMap((name) => {
        const member = reference((v as Record<string, unknown>)[name], name);
        return member === undefined ? [] : [`${JSON.stringify(name)}:${member}`];
      });
      return `{${members.join(',')}}`;
    };
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const names = ['a', 'b', 'Z', 'é', '0', '7', '10', '01', '-1', '__proto__', 'toJSON', '\u{1F600}', '\uFF00', 'hash', 'chain', ''];
    const leaf = (): unknown => pick<unknown>([null, true, false, 0, -0, 1.5, NaN, -Infinity, 1e21, 'text', 'q"\\\n', '\uD800', '', undefined, () => 1, new Date(0)]);
    const build = (depth: number): unknown => {
      if (depth > 5 || random() < 0.3) return leaf();
      if (random() < 0.35) return Array.from({ length: Math.floor(random() * 4) }, () => build(depth + 1));
      const object: Record<string, unknown> = {};
      for (let count = Math.floor(random() * 5); count > 0; count -= 1) {
        const name = pick(names);
        // An own __proto__ member, as JSON.parse makes one, not a prototype change.
        Object.defineProperty(object, name, { value: name === 'toJSON' ? leaf() : build(depth + 1), enumerable: true, configurable: true, writable: true });
      }
      return object;
    };
    for (let round = 0; round < 5000; round += 1) {
      const value = { root: build(0) };
      assert.equal(canonicalJson(value), reference(value), `round ${round}`);
    }
  });
});

