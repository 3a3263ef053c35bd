// Secret masking by the obligations' paths in every shape a read answers with, and detectors
// over a document's strings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMaskStrategyRegistry, type JsonPathMaskV1 } from '@portcullis/pep-core';
import { maskDocument } from '../../src/responses/document-masker.ts';
import { liftToObjectPlaces, OBJECT_PLACES } from '../../src/responses/object-path-lifting.ts';
import { responseMasksSupported, maskingPlan } from '../../src/responses/masking-plan.ts';

const strategies = createMaskStrategyRegistry();
const LAST_APPLIED = "$.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']";
const objectPaths = (...paths: string[]): JsonPathMaskV1[] => paths.map((path) => ({ kind: 'json-path', path, strategy: 'redact' }));
const secretPlan = maskingPlan(objectPaths('$.data.*', '$.stringData.*', LAST_APPLIED), strategies);

const secret = (name: string) => ({
  kind: 'Secret',
  apiVersion: 'v1',
  metadata: {
    name,
    namespace: 'team',
    resourceVersion: '41',
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `{"data":{"password":"aHVudGVyMg=="}}`, owner: 'ops' },
  },
  type: 'Opaque',
  data: { password: 'aHVudGVyMg==', token: 'dG9rZW4=' },
});

function everyString(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(everyString);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(everyString);
  return [];
}

function assertNoSecretValue(document: unknown): void {
  for (const text of everyString(document)) assert.ok(!text.includes('aHVudGVyMg==') && !text.includes('dG9rZW4='), `unmasked: ${text}`);
}

describe('masking a response document', () => {
  it('hides the values of a Secret got on its own, and keeps everything else', () => {
    const { document, masked } = maskDocument(secret('db'), secretPlan);
    assert.equal(masked, 3);
    assert.deepEqual((document as ReturnType<typeof secret>).data, { password: '****', token: '****' });
    assert.equal((document as ReturnType<typeof secret>).metadata.annotations.owner, 'ops');
    assert.equal((document as ReturnType<typeof secret>).metadata.resourceVersion, '41');
  });

  it('hides them in each item of a list', () => {
    const list = { kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '50' }, items: [secret('a'), secret('b')] };
    const { document, masked } = maskDocument(list, secretPlan);
    assert.equal(masked, 6);
    assertNoSecretValue(document);
  });

  it('hides them in table rows, with whole objects and with metadata only', () => {
    const table = {
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      columnDefinitions: [{ name: 'Name', type: 'string' }],
      rows: [
        { cells: ['a', 'Opaque', 2], object: secret('a') },
        { cells: ['b', 'Opaque', 2], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: secret('b').metadata } },
      ],
    };
    const { document, masked } = maskDocument(table, secretPlan);
    assert.equal(masked, 4);
    assertNoSecretValue(document);
    assert.deepEqual((document as typeof table).rows[0]!.cells, ['a', 'Opaque', 2]);
  });

  it('hides them in watch events, of objects and of tables; bookmarks and errors pass', () => {
    const added = maskDocument({ type: 'ADDED', object: secret('a') }, secretPlan);
    assert.equal(added.masked, 3);
    assertNoSecretValue(added.document);
    const tableEvent = maskDocument({ type: 'MODIFIED', object: { kind: 'Table', rows: [{ cells: ['a'], object: secret('a') }] } }, secretPlan);
    assert.equal(tableEvent.masked, 3);
    assertNoSecretValue(tableEvent.document);
    const bookmark = { type: 'BOOKMARK', object: { kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: '77' } } };
    assert.deepEqual(maskDocument(bookmark, secretPlan), { document: bookmark, masked: 0 });
    const error = { type: 'ERROR', object: { kind: 'Status', status: 'Failure', message: 'too old resource version: 1 (77)', code: 410 } };
    assert.deepEqual(maskDocument(error, secretPlan), { document: error, masked: 0 });
  });

  it('reads a path written for one shape as the object path, and masks every other shape by it', () => {
    for (const path of ['$.items[*].data.*', '$.object.data.*', '$.rows[*].object.data.*', '$.object.rows[*].object.data.*']) {
      const plan = maskingPlan(objectPaths(path), strategies);
      for (const shape of [secret('a'), { kind: 'SecretList', items: [secret('a')] }, { type: 'ADDED', object: secret('a') }, { kind: 'Table', rows: [{ object: secret('a') }] }]) {
        const { document, masked } = maskDocument(shape, plan);
        assert.equal(masked, 2, `${path} on ${JSON.stringify(shape).slice(0, 30)}`);
        assert.ok(!JSON.stringify(document).includes('"dG9rZW4="'));
      }
    }
  });

  it('hides and counts once a value that several paths reach', () => {
    const plan = maskingPlan(objectPaths('$.data.*', '$.items[*].data.*', '$.object.data.*', '$.rows[*].object.data.*', '$..password'), strategies);
    assert.equal(maskDocument({ kind: 'SecretList', items: [secret('a')] }, plan).masked, 2);
  });

  it('keeps the document it was given unchanged', () => {
    const original = secret('db');
    maskDocument(original, secretPlan);
    assert.equal(original.data.password, 'aHVudGVyMg==');
  });

  it('replaces what detectors find in string values, and leaves the machinery alone', () => {
    const plan = maskingPlan([{ kind: 'byte-stream', detectors: ['email', 'phone'], strategy: 'redact' }], strategies);
    const configMap = {
      kind: 'ConfigMap',
      metadata: { name: 'contacts', resourceVersion: '212-555-0123', managedFields: [{ manager: 'ann@example.com' }] },
      data: { owner: 'reach ann@example.com or +44 20 7946 0958', replicas: '3' },
    };
    const { document, masked } = maskDocument(configMap, plan);
    assert.equal(masked, 2);
    const result = document as typeof configMap;
    assert.equal(result.data.owner, 'reach **** or ****');
    assert.equal(result.data.replicas, '3');
    assert.equal(result.metadata.resourceVersion, '212-555-0123');
    assert.equal(result.metadata.managedFields[0]!.manager, 'ann@example.com');
  });

  it('keeps a __proto__ key a key', () => {
    const plan = maskingPlan([{ kind: 'byte-stream', detectors: ['email'], strategy: 'redact' }], strategies);
    const parsed = JSON.parse('{"data":{"__proto__":{"x":"ann@example.com"}}}');
    const { document } = maskDocument(parsed, plan);
    assert.equal(JSON.stringify(document), '{"data":{"__proto__":{"x":"****"}}}');
  });

  it('supports the paths and detectors the SDK reads, and nothing else', () => {
    assert.ok(responseMasksSupported(objectPaths('$.data.*', LAST_APPLIED, '$..password')));
    assert.ok(!responseMasksSupported(objectPaths('$.data[?@.x]')));
    assert.ok(!responseMasksSupported([{ kind: 'byte-stream', detectors: ['passport'], strategy: 'redact' }]));
    assert.ok(!responseMasksSupported([{ table: 't', column: 'c', strategy: 'redact' } as never]));
  });
});

describe('lifting paths to every place an object sits', () => {
  it('applies the paths of a policy that names every shape once each', () => {
    const everyShape = OBJECT_PLACES.map((place) => ({ kind: 'json-path' as const, path: `${place}.data.*`, strategy: 'redact' }));
    assert.deepEqual(liftToObjectPlaces(everyShape).map((mask) => mask.path), OBJECT_PLACES.map((place) => `${place}.data.*`));
    assert.equal(liftToObjectPlaces([{ kind: 'json-path', path: '$.data.*', strategy: 'hash' }, { kind: 'json-path', path: '$.data.*', strategy: 'redact' }]).length, 2 * OBJECT_PLACES.length);
  });
});
