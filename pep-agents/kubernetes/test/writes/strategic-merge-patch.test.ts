// Strategic merge patch as the API server applies it to built-in types: merge keys, directives,
// and the cases where its result is undefined or the type unknown refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../src/writes/json-value.ts';
import { PatchError } from '../../src/writes/patch-error.ts';
import { applyStrategicMergePatch } from '../../src/writes/strategic-merge-patch.ts';
import { schemaForKind } from '../../src/writes/strategic-merge-schema.ts';

const POD = schemaForKind('v1', 'Pod')!;
const DEPLOYMENT = schemaForKind('apps/v1', 'Deployment')!;
const refusedAs = (kind: string, pattern: RegExp) => (error: unknown) => error instanceof PatchError && error.kind === kind && pattern.test(error.message);

const pod = (): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', finalizers: ['a', 'b'], labels: { app: 'web' } },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'nginx:1.27',
        env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
        ports: [{ containerPort: 80 }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      },
      { name: 'side', image: 'busybox' },
    ],
    volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cfg' } }],
    tolerations: [{ key: 'x', operator: 'Exists' }],
  },
});
const spec = (object: JsonObject) => object.spec as JsonObject;
const containers = (object: JsonObject) => spec(object).containers as JsonObject[];

describe('strategic merge patch', () => {
  it('merges containers by name, env by name, ports by containerPort and volumeMounts by mountPath', () => {
    const result = applyStrategicMergePatch(
      pod(),
      {
        spec: {
          containers: [
            {
              name: 'app',
              securityContext: { privileged: true },
              env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }],
              ports: [{ containerPort: 80, hostPort: 8080 }],
              volumeMounts: [{ name: 'host', mountPath: '/host' }],
            },
          ],
        },
      },
      POD,
    );
    assert.deepEqual(containers(result)[0], {
      name: 'app',
      image: 'nginx:1.27',
      env: [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }],
      ports: [{ containerPort: 80, hostPort: 8080 }],
      // As on the API server: an element new to the live list goes before the live elements it cannot be placed among.
      volumeMounts: [{ name: 'host', mountPath: '/host' }, { name: 'data', mountPath: '/data' }],
      securityContext: { privileged: true },
    });
    assert.deepEqual(containers(result)[1], { name: 'side', image: 'busybox' });
  });

  it('replaces a list without a merge strategy (tolerations) and merges volumes by name', () => {
    const result = applyStrategicMergePatch(pod(), { spec: { tolerations: [{ key: 'y', operator: 'Exists' }], volumes: [{ name: 'host', hostPath: { path: '/' } }] } }, POD);
    assert.deepEqual(spec(result).tolerations, [{ key: 'y', operator: 'Exists' }]);
    assert.deepEqual(spec(result).volumes, [{ name: 'host', hostPath: { path: '/' } }, { name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cfg' } }]);
  });

  it('reaches the pod template inside a Deployment', () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'app', image: 'a' }] } } } };
    const result = applyStrategicMergePatch(deployment, { spec: { template: { spec: { hostPID: true, containers: [{ name: 'app', image: 'b' }, { name: 'new', image: 'c' }] } } } }, DEPLOYMENT);
    assert.deepEqual((result.spec as JsonObject).template, { spec: { hostPID: true, containers: [{ name: 'app', image: 'b' }, { name: 'new', image: 'c' }] } });
  });

  it('merges primitive merge lists (finalizers) as sets and removes null members', () => {
    const result = applyStrategicMergePatch(pod(), { metadata: { finalizers: ['b', 'c'], labels: { app: null } } }, POD);
    assert.deepEqual(result.metadata, { name: 'web', finalizers: ['a', 'b', 'c'], labels: {} });
  });

  it('$patch: delete removes list elements by merge key, and a map', () => {
    const result = applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'side', $patch: 'delete' }], volumes: [{ name: 'cfg', $patch: 'delete' }] } }, POD);
    assert.deepEqual(containers(result).map((container) => container.name), ['app']);
    assert.deepEqual(spec(result).volumes, [{ name: 'data', emptyDir: {} }]);
    const noLabels = applyStrategicMergePatch(pod(), { metadata: { labels: { $patch: 'delete' } } }, POD);
    assert.deepEqual((noLabels.metadata as JsonObject).labels, {});
  });

  it('$patch: replace replaces a list or a map with what the patch holds', () => {
    const result = applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } }, POD);
    assert.deepEqual(containers(result), [{ name: 'only', image: 'x' }]);
    const labels = applyStrategicMergePatch(pod(), { metadata: { labels: { $patch: 'replace', team: 'b' } } }, POD);
    assert.deepEqual((labels.metadata as JsonObject).labels, { team: 'b' });
  });

  it('$retainKeys clears the members it does not list (a volume switching its source)', () => {
    const result = applyStrategicMergePatch(pod(), { spec: { volumes: [{ name: 'data', hostPath: { path: '/var' }, $retainKeys: ['name', 'hostPath'] }] } }, POD);
    assert.deepEqual((spec(result).volumes as JsonObject[])[0], { name: 'data', hostPath: { path: '/var' } });
    assert.throws(
      () => applyStrategicMergePatch(pod(), { spec: { volumes: [{ name: 'data', hostPath: { path: '/var' }, $retainKeys: ['name'] }] } }, POD),
      refusedAs('invalid', /not in its "\$retainKeys"/),
    );
  });

  it('$setElementOrder orders the merged list: listed elements in its order, the rest where the live list had them', () => {
    const result = applyStrategicMergePatch(
      pod(),
      { spec: { containers: [{ name: 'side', image: 'busybox:2' }], '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }] } },
      POD,
    );
    assert.deepEqual(containers(result).map((container) => [container.name, container.image]), [
      ['side', 'busybox:2'],
      ['app', 'nginx:1.27'],
    ]);
    const finalizers = applyStrategicMergePatch(pod(), { metadata: { '$setElementOrder/finalizers': ['c', 'b', 'a'], finalizers: ['c'] } }, POD);
    assert.deepEqual((finalizers.metadata as JsonObject).finalizers, ['c', 'b', 'a']);
  });

  it('$deleteFromPrimitiveList removes values, and where the list is absent it becomes that list as on the API server', () => {
    const result = applyStrategicMergePatch(pod(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, POD);
    assert.deepEqual((result.metadata as JsonObject).finalizers, ['b']);
    const absent = applyStrategicMergePatch({ metadata: { name: 'x' } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, POD);
    assert.deepEqual((absent.metadata as JsonObject).finalizers, ['a']);
    const both = applyStrategicMergePatch(pod(), { metadata: { finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['a'] } }, POD);
    assert.deepEqual((both.metadata as JsonObject).finalizers, ['c', 'b']);
  });

  it('refuses what the API server would compute differently run to run', () => {
    assert.throws(
      () => applyStrategicMergePatch({ metadata: { name: 'x' } }, { metadata: { finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['a'] } }, POD),
      refusedAs('unsupported', /depends on the order/),
    );
    assert.throws(
      () => applyStrategicMergePatch(pod(), { metadata: { finalizers: ['a'], '$deleteFromPrimitiveList/finalizers': ['a'] } }, POD),
      refusedAs('unsupported', /depends on the order/),
    );
  });

  it('refuses unknown directives and directive values, and a directive on the whole object', () => {
    assert.throws(() => applyStrategicMergePatch(pod(), { spec: { $deleteAll: true } }, POD), refusedAs('unsupported', /unknown strategic merge patch directive "\$deleteAll"/));
    assert.throws(() => applyStrategicMergePatch(pod(), { spec: { '$setElementOrder/': [] } }, POD), refusedAs('unsupported', /unknown strategic merge patch directive/));
    assert.throws(() => applyStrategicMergePatch(pod(), { spec: { $patch: 'merge' } }, POD), refusedAs('invalid', /unknown "\$patch" directive/));
    assert.throws(() => applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'app', $patch: 'merge' }] } }, POD), refusedAs('invalid', /not allowed in a list/));
    assert.throws(() => applyStrategicMergePatch(pod(), { $patch: 'replace', spec: {} }, POD), refusedAs('unsupported', /whole object/));
  });

  it('refuses lists the API server cannot merge: no merge key, mixed element types, lists of lists', () => {
    assert.throws(() => applyStrategicMergePatch(pod(), { spec: { containers: [{ image: 'x' }] } }, POD), refusedAs('invalid', /no merge key "name"/));
    assert.throws(() => applyStrategicMergePatch(pod(), { metadata: { finalizers: [1] } }, POD), refusedAs('invalid', /not all of one type/));
    assert.throws(() => applyStrategicMergePatch(pod(), { metadata: { finalizers: [['x']] } }, POD), refusedAs('invalid', /nested lists/));
  });

  it('takes a value the original lacks as sent', () => {
    const result = applyStrategicMergePatch({ spec: {} }, { spec: { initContainers: [{ name: 'i', image: 'x', securityContext: { privileged: true } }] } }, POD);
    assert.deepEqual(result, { spec: { initContainers: [{ name: 'i', image: 'x', securityContext: { privileged: true } }] } });
  });

  it('knows only the kinds it models', () => {
    assert.equal(schemaForKind('example.com/v1', 'Widget'), undefined);
    assert.equal(schemaForKind('v1', 'toString'), undefined);
    assert.ok(schemaForKind('batch/v1', 'CronJob'));
  });
});

describe('strategic merge patch, what is stored of a value taken as sent', () => {
  it('drops the directive members a new value carries, as decoding into the Go type does', () => {
    const result = applyStrategicMergePatch(
      { spec: { containers: [{ name: 'app', image: 'a' }] } },
      { spec: { containers: [{ name: 'new', image: 'b', env: [{ name: 'B', $patch: 'delete' }] }] } },
      schemaForKind('v1', 'Pod')!,
    );
    assert.deepEqual((result.spec as JsonObject).containers, [{ name: 'new', image: 'b', env: [{ name: 'B' }] }, { name: 'app', image: 'a' }]);
  });
});
