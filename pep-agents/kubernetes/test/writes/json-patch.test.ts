// JSON Patch (RFC 6902) as the resolver applies it: every operation, pointer escapes, and the
// forms the API server's library reads loosely refused rather than guessed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyJsonPatch, readJsonPatch } from '../../src/writes/json-patch.ts';
import type { JsonObject } from '../../src/writes/json-value.ts';
import { PatchError } from '../../src/writes/patch-error.ts';

const LIMIT = 1_000_000;
const apply = (document: JsonObject, patch: unknown, limit = LIMIT) => applyJsonPatch(document, readJsonPatch(patch), limit);
const refusedAs = (kind: string, pattern: RegExp) => (error: unknown) => error instanceof PatchError && error.kind === kind && pattern.test(error.message);

const pod = (): JsonObject => ({
  metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web', 'a~b': 'x' } },
  spec: { containers: [{ name: 'app', image: 'nginx:1.27' }, { name: 'side', image: 'busybox' }] },
});

describe('JSON Patch', () => {
  it('adds, replaces and removes members and array elements, appending with "-"', () => {
    const result = apply(pod(), [
      { op: 'add', path: '/spec/containers/0/securityContext', value: { privileged: true } },
      { op: 'replace', path: '/spec/containers/1/image', value: 'busybox:1.36' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'third', image: 'alpine' } },
      { op: 'add', path: '/spec/containers/0', value: { name: 'first', image: 'redis' } },
      { op: 'remove', path: '/metadata/labels/app.kubernetes.io~1name' },
    ]);
    assert.deepEqual(result.spec, {
      containers: [
        { name: 'first', image: 'redis' },
        { name: 'app', image: 'nginx:1.27', securityContext: { privileged: true } },
        { name: 'side', image: 'busybox:1.36' },
        { name: 'third', image: 'alpine' },
      ],
    });
    assert.deepEqual(result.metadata, { name: 'web', labels: { 'a~b': 'x' } });
  });

  it('reads ~1 as "/" and ~0 as "~" in that order, so "~01" names "~1"', () => {
    const result = apply({ a: { 'x/y': 1, 'p~q': 2, '~1': 3 } }, [
      { op: 'replace', path: '/a/x~1y', value: 10 },
      { op: 'replace', path: '/a/p~0q', value: 20 },
      { op: 'replace', path: '/a/~01', value: 30 },
    ]);
    assert.deepEqual(result, { a: { 'x/y': 10, 'p~q': 20, '~1': 30 } });
  });

  it('moves and copies, removing at the source of a move', () => {
    const result = apply(pod(), [
      { op: 'copy', from: '/spec/containers/0', path: '/spec/initContainers' },
      { op: 'move', from: '/spec/containers/1', path: '/spec/containers/0' },
    ]);
    assert.deepEqual(result.spec, {
      containers: [{ name: 'side', image: 'busybox' }, { name: 'app', image: 'nginx:1.27' }],
      initContainers: { name: 'app', image: 'nginx:1.27' },
    });
  });

  it('stops at a failed test and passes an equal one', () => {
    assert.deepEqual(apply(pod(), [{ op: 'test', path: '/spec/containers/0', value: { image: 'nginx:1.27', name: 'app' } }, { op: 'remove', path: '/spec/containers/1' }]).spec, {
      containers: [{ name: 'app', image: 'nginx:1.27' }],
    });
    assert.throws(() => apply(pod(), [{ op: 'test', path: '/metadata/name', value: 'other' }]), refusedAs('invalid', /test at "\/metadata\/name" failed/));
  });

  it('refuses what the API server would refuse: missing paths, out-of-range indices, unknown ops, missing values', () => {
    assert.throws(() => apply(pod(), [{ op: 'remove', path: '/spec/volumes' }]), refusedAs('invalid', /does not exist/));
    assert.throws(() => apply(pod(), [{ op: 'replace', path: '/spec/hostNetwork', value: true }]), refusedAs('invalid', /does not exist/));
    assert.throws(() => apply(pod(), [{ op: 'add', path: '/spec/containers/3', value: {} }]), refusedAs('invalid', /out of bounds/));
    assert.throws(() => apply(pod(), [{ op: 'add', path: '/spec/a/b', value: 1 }]), refusedAs('invalid', /does not exist/));
    assert.throws(() => apply(pod(), [{ op: 'merge', path: '/spec', value: {} }]), refusedAs('invalid', /unknown op "merge"/));
    assert.throws(() => apply(pod(), [{ op: 'add', path: '/spec/hostPID' }]), refusedAs('invalid', /has no "value"/));
    assert.throws(() => apply(pod(), [{ op: 'move', path: '/spec/x' }]), refusedAs('invalid', /has no "from"/));
    assert.throws(() => apply(pod(), [{ op: 'move', from: '/spec', path: '/spec/inner' }]), refusedAs('invalid', /into itself/));
    assert.throws(() => apply(pod(), { op: 'add' }), refusedAs('invalid', /array of operations/));
  });

  it('refuses the forms the API server reads loosely: negative, signed or zero-padded indices, stray "~", no leading "/", the whole document', () => {
    for (const path of ['/spec/containers/-1/image', '/spec/containers/+1/image', '/spec/containers/01/image']) {
      assert.throws(() => apply(pod(), [{ op: 'replace', path, value: 'x' }]), refusedAs('unsupported', /not a plain non-negative integer/), path);
    }
    assert.throws(() => apply(pod(), [{ op: 'add', path: '/metadata/labels/a~2b', value: 'x' }]), refusedAs('invalid', /not followed by 0 or 1/));
    assert.throws(() => apply(pod(), [{ op: 'add', path: 'spec/hostPID', value: true }]), refusedAs('invalid', /does not start with/));
    assert.throws(() => apply(pod(), [{ op: 'replace', path: '', value: {} }]), refusedAs('unsupported', /whole document/));
  });

  it('bounds what copies can build, so a small patch cannot grow a huge object', () => {
    const doubling = [{ op: 'add', path: '/a', value: ['x'.repeat(1000)] }];
    for (let i = 0; i < 30; i += 1) doubling.push({ op: 'copy', from: '/a', path: `/a${i}` } as never);
    assert.throws(() => apply({}, doubling, 20_000), refusedAs('too-large', /copies more than 20000 bytes/));
  });

  it('sets a member named __proto__ as a field, never as the prototype', () => {
    const result = apply({ metadata: {} }, [{ op: 'add', path: '/metadata/__proto__', value: { polluted: true } }]);
    assert.deepEqual(Object.keys(result.metadata as object), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(result.metadata), Object.prototype);
  });

  it('leaves the document it was given untouched', () => {
    const original = pod();
    apply(original, [{ op: 'remove', path: '/spec/containers/0' }]);
    assert.deepEqual(original, pod());
  });
});
