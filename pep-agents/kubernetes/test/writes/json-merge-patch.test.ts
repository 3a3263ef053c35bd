// JSON merge patch (RFC 7386) as the API server's library stores it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyJsonMergePatch } from '../../src/writes/json-merge-patch.ts';
import { PatchError } from '../../src/writes/patch-error.ts';

describe('JSON merge patch', () => {
  it('merges members, removes with null and replaces lists whole', () => {
    const current = { metadata: { name: 'web', labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'app', image: 'nginx' }, { name: 'side', image: 'busybox' }] } };
    const result = applyJsonMergePatch(current, { metadata: { labels: { a: null, c: '3' } }, spec: { containers: [{ name: 'app', image: 'nginx', securityContext: { privileged: true } }] } });
    assert.deepEqual(result, {
      metadata: { name: 'web', labels: { b: '2', c: '3' } },
      spec: { containers: [{ name: 'app', image: 'nginx', securityContext: { privileged: true } }] },
    });
    assert.deepEqual(current.metadata.labels, { a: '1', b: '2' }, 'the current object is not modified');
  });

  it('stores a value set where there was none without its null members or null elements, at any depth', () => {
    const result = applyJsonMergePatch({ spec: { replicas: 1 } }, { spec: { template: { a: null, b: { c: null, d: 1 }, list: [null, { e: null, f: 2 }] } }, status: 'x' });
    assert.deepEqual(result, { spec: { replicas: 1, template: { b: { d: 1 }, list: [{ f: 2 }] } }, status: 'x' });
  });

  it('replaces an object with a non-object value as sent', () => {
    assert.deepEqual(applyJsonMergePatch({ spec: { a: 1 } }, { spec: [{ x: null }] }), { spec: [{ x: null }] });
  });

  it('refuses a patch that is not an object', () => {
    for (const patch of [[{ op: 'add' }], 'x', null, 3]) {
      assert.throws(() => applyJsonMergePatch({}, patch), (error: unknown) => error instanceof PatchError && /must be a JSON object/.test(error.message));
    }
  });
});
