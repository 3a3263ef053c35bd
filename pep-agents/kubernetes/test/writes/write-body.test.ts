// What a write's body may be: JSON and YAML read, binary encodings and odd parameters refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PatchError } from '../../src/writes/patch-error.ts';
import { withResourceVersion } from '../../src/writes/resource-version-precondition.ts';
import { parseJsonBody, parseYamlBody } from '../../src/writes/write-body.ts';
import { readWriteContentType } from '../../src/writes/write-content-type.ts';

describe('write bodies', () => {
  it('tells each body type from its Content-Type and refuses the rest', () => {
    assert.deepEqual(readWriteContentType('application/json', 'POST'), { type: 'json', mediaType: 'application/json' });
    assert.deepEqual(readWriteContentType('Application/JSON; charset=UTF-8', 'PUT'), { type: 'json', mediaType: 'application/json' });
    assert.deepEqual(readWriteContentType('application/strategic-merge-patch+json', 'PATCH'), { type: 'strategic-merge-patch', mediaType: 'application/strategic-merge-patch+json' });
    assert.deepEqual(readWriteContentType('application/apply-patch+yaml', 'PATCH'), { type: 'apply-patch', mediaType: 'application/apply-patch+yaml' });
    for (const [header, method, pattern] of [
      ['application/vnd.kubernetes.protobuf', 'POST', /cannot be read/],
      ['application/cbor', 'POST', /cannot be read/],
      ['application/apply-patch+cbor', 'PATCH', /cannot be read/],
      ['application/json; stream=watch', 'POST', /parameter "stream=watch"/],
      ['application/json', 'PATCH', /not a patch type/],
      ['application/merge-patch+json', 'PUT', /only for PATCH/],
      [undefined, 'POST', /no Content-Type/],
    ] as const) {
      const reading = readWriteContentType(header, method);
      assert.ok('refused' in reading && pattern.test(reading.refused), `${header} ${method}`);
    }
  });

  it('reads YAML with YAML 1.1 rules as the API server does, one document only', () => {
    assert.deepEqual(parseYamlBody(Buffer.from('a: yes\nmode: 0644\nlist: [x, 2]\n')), { a: true, mode: 420, list: ['x', 2] });
    assert.throws(() => parseYamlBody(Buffer.from('a: 1\n---\nb: 2\n')), /exactly one document/);
    assert.throws(() => parseYamlBody(Buffer.from('a: [1\n')), /not valid YAML/);
    assert.throws(() => parseYamlBody(Buffer.from('a: 1e400\n')), /cannot be carried as JSON exactly/);
    // An alias bomb stops at the reader's alias limit.
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, level) => `${String.fromCharCode(98 + level)}: &${String.fromCharCode(98 + level)} [${Array(10).fill(`*${String.fromCharCode(97 + level)}`).join(', ')}]`)].join('\n');
    assert.throws(() => parseYamlBody(Buffer.from(bomb)), /not valid YAML/);
  });

  it('refuses malformed JSON', () => {
    assert.throws(() => parseJsonBody(Buffer.from('{"a":')), (error: unknown) => error instanceof PatchError && error.kind === 'malformed');
    assert.deepEqual(parseJsonBody(Buffer.from('{"a":[1,{"b":null}]}')), { a: [1, { b: null }] });
    assert.throws(() => parseJsonBody(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])), /not valid UTF-8/);
  });

  it('binds a merge-style patch to the resourceVersion read, and refuses one naming another', () => {
    assert.deepEqual(withResourceVersion({ spec: { a: 1 } }, '42'), { spec: { a: 1 }, metadata: { resourceVersion: '42' } });
    assert.deepEqual(withResourceVersion({ metadata: { labels: { a: 'b' } } }, '42'), { metadata: { labels: { a: 'b' }, resourceVersion: '42' } });
    assert.deepEqual(withResourceVersion({ metadata: { resourceVersion: '42' } }, '42'), { metadata: { resourceVersion: '42' } });
    assert.throws(() => withResourceVersion({ metadata: { resourceVersion: '41' } }, '42'), (error: unknown) => error instanceof PatchError && error.kind === 'conflict');
    assert.throws(() => withResourceVersion({ metadata: null }, '42'), /replaces or removes metadata/);
    // A directive that drops the version is caught on the resolved object, where it would take effect.
    assert.deepEqual(withResourceVersion({ metadata: { $patch: 'delete' } }, '42'), { metadata: { $patch: 'delete', resourceVersion: '42' } });
  });
});

describe('member names twice in one object', () => {
  it('finds a name repeated in one object, after escapes, at any depth', async () => {
    const { duplicateJsonKey } = await import('@portcullis/pep-core');
    assert.equal(duplicateJsonKey('{"spec":{"hostNetwork":true},"spec":{}}'), 'spec');
    assert.equal(duplicateJsonKey('{"a":[{"b":1,"c":{"d":1,"\\u0064":2}}]}'), 'd');
    assert.equal(duplicateJsonKey('{"a":1,"b":[{"a":1},{"a":2}],"c":{"a":{"a":1}}}'), undefined);
    // Go decodes a lone surrogate escape to U+FFFD: these two names are one name to the API server.
    assert.equal(duplicateJsonKey('{"a\\ud800":1,"a\\udbff":2}'), 'a\ufffd');
    assert.equal(duplicateJsonKey('{"a\\ud83d\\ude00":1,"a\\ud83d\\ude01":2}'), undefined);
    assert.equal(duplicateJsonKey('{"s":"} { \\"s\\": ,","t":["s","s"],"u":{"s":"x"}}'), undefined);
    assert.equal(duplicateJsonKey('[{"x":1},{"x":2,"y":{"x":3}},{"z":[],"z":[]}]'), 'z');
    assert.throws(() => parseJsonBody(Buffer.from('{"kind":"Pod","spec":{"hostPID":true},"spec":{"containers":[]}}')), /names "spec" twice/);
  });
});
