// Server-side apply as the resolver computes it: the applied configuration over the current
// object, lists merged by their list-map keys, unknown list types refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../src/writes/json-value.ts';
import { PatchError } from '../../src/writes/patch-error.ts';
import { applyServerSide } from '../../src/writes/server-side-apply.ts';
import { schemaForKind } from '../../src/writes/strategic-merge-schema.ts';

const POD = schemaForKind('v1', 'Pod');
const refusedAs = (kind: string, pattern: RegExp) => (error: unknown) => error instanceof PatchError && error.kind === kind && pattern.test(error.message);

const current = (): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', resourceVersion: '7', finalizers: ['a'] },
  spec: {
    containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }] }],
    tolerations: [{ key: 'x', operator: 'Exists' }],
  },
});

describe('server-side apply', () => {
  it('merges containers by name and ports by containerPort and protocol (TCP when left out)', () => {
    const result = applyServerSide(
      current(),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'app', ports: [{ containerPort: 80, hostPort: 80 }], securityContext: { privileged: true } }] } },
      POD,
    );
    assert.deepEqual((result.spec as JsonObject).containers, [
      { name: 'app', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP', hostPort: 80 }, { containerPort: 53, protocol: 'UDP' }], securityContext: { privileged: true } },
    ]);
  });

  it('replaces atomic lists and takes the union of set lists', () => {
    const result = applyServerSide(current(), { metadata: { finalizers: ['b'] }, spec: { tolerations: [{ key: 'y', operator: 'Exists' }] } }, POD);
    assert.deepEqual((result.metadata as JsonObject).finalizers, ['a', 'b']);
    assert.deepEqual((result.spec as JsonObject).tolerations, [{ key: 'y', operator: 'Exists' }]);
  });

  it('is the applied configuration itself when the object does not exist', () => {
    const applied = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'new' }, spec: { hostNetwork: true } };
    assert.deepEqual(applyServerSide(undefined, applied, undefined), applied);
  });

  it('refuses a list on both sides of a kind it does not model, whose list type it cannot know', () => {
    const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { items: [{ name: 'a' }], size: 1 } };
    assert.deepEqual(applyServerSide(widget, { spec: { size: 2 } }, undefined), { ...widget, spec: { items: [{ name: 'a' }], size: 2 } });
    assert.throws(() => applyServerSide(widget, { spec: { items: [{ name: 'b' }] } }, undefined), refusedAs('unsupported', /"items": how this kind's lists merge/));
  });

  it('refuses nulls and a configuration that is not one object', () => {
    assert.throws(() => applyServerSide(current(), { spec: { tolerations: null } }, POD), refusedAs('unsupported', /null at "\.spec\.tolerations"/));
    assert.throws(() => applyServerSide(current(), [{}], POD), refusedAs('invalid', /one object/));
  });
});
