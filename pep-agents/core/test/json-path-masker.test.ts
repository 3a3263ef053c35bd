import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMaskStrategyRegistry, JsonPathMasker, jsonPathMasksSupported, parseJsonPath, type JsonPathMaskV1 } from '../src/index.ts';

const strategies = createMaskStrategyRegistry();
const mask = (path: string, strategy = 'redact'): JsonPathMaskV1 => ({ kind: 'json-path', path, strategy });

// A Secret as the Kubernetes API returns it, and a list of them.
const SECRET = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'db', namespace: 'prod', annotations: { owner: 'ops@example.com' } },
  type: 'Opaque',
  data: { username: 'YXBw', password: 'aHVudGVyMg==' },
};
// An MCP tool result: text content, and structured content with nested values.
const TOOL_RESULT = {
  content: [
    { type: 'text', text: 'row 1: alice@example.com' },
    { type: 'text', text: 'row 2: bob@example.com' },
  ],
  structuredContent: { rows: [{ id: 1, email: 'alice@example.com', card: { number: '4111111111111111', cvv: 123 } }], total: 1 },
  isError: false,
};

describe('JSON-path masks over structured results (Kubernetes objects, MCP tool results)', () => {
  it("hides every value of a Secret's data, and nothing else", () => {
    const { value, masked } = JsonPathMasker.for([mask('$.data.*')], strategies).mask(SECRET);
    assert.deepEqual(value.data, { username: '****', password: '****' });
    assert.equal(masked, 2);
    assert.deepEqual({ ...value, data: SECRET.data }, SECRET);
    assert.equal(SECRET.data.password, 'aHVudGVyMg==', 'the document given is not changed');
  });

  it('hides Secrets in a list and in watch events alike, through descendants', () => {
    const list = { kind: 'SecretList', items: [SECRET, { ...SECRET, data: { token: 'dG9rZW4=' } }] };
    const { value, masked } = JsonPathMasker.for([mask('$.items[*].data')], strategies).mask(list);
    assert.deepEqual(value.items.map((item) => item.data), [{ username: '****', password: '****' }, { token: '****' }]);
    assert.equal(masked, 3);
    const event = { type: 'MODIFIED', object: SECRET };
    assert.deepEqual(JsonPathMasker.for([mask('$..data')], strategies).mask(event).value.object.data, { username: '****', password: '****' });
  });

  it("hides an MCP tool result's text and nested structured values, by index, name and bracket", () => {
    const masker = JsonPathMasker.for([mask('$.content[*].text', 'partial'), mask("$.structuredContent.rows[0]['card']"), mask('$..email', 'hash')], strategies);
    const { value, masked } = masker.mask(TOOL_RESULT);
    assert.ok(value.content.every((part) => !part.text.includes('@example.com') || part.text.startsWith('****')), JSON.stringify(value.content));
    assert.deepEqual(value.structuredContent.rows[0]!.card, { number: '****', cvv: '0' });
    assert.notEqual(value.structuredContent.rows[0]!.email, 'alice@example.com');
    assert.equal(value.structuredContent.total, 1);
    assert.equal(masked, 5);
    assert.equal(JsonPathMasker.for([mask('$.content[-1].text')], strategies).mask(TOOL_RESULT).value.content[0]!.text, 'row 1: alice@example.com');
  });

  it('masks a copy, or in place the document its caller owns, hiding the same values', () => {
    const masker = JsonPathMasker.for([mask('$.data.*')], strategies);
    const original = structuredClone(SECRET);
    const copied = masker.mask(original);
    assert.deepEqual(original, SECRET, 'mask leaves its input as it was');
    const owned = structuredClone(SECRET);
    const inPlace = masker.maskInPlace(owned);
    assert.equal(inPlace.value, owned, 'the document itself, not a copy');
    assert.deepEqual(owned, copied.value);
    assert.equal(inPlace.masked, copied.masked);
  });

  it('hides a value two paths select once', () => {
    assert.equal(JsonPathMasker.for([mask('$.data.password'), mask('$..password')], strategies).mask(SECRET).masked, 1);
  });

  it('reads the paths policy writes, and refuses the ones it cannot read (the PEP then refuses the command)', () => {
    for (const path of ['$', '$.data.*', '$.items[*].data', "$['metadata']['annotations']", '$..password', '$..*', '$.a[-1]', '$["we\\"ird"]']) {
      assert.ok(parseJsonPath(path), path);
    }
    for (const path of ['data.password', '$.items[?(@.kind=="Secret")]', '$.items[0:2]', "$['a','b']", '$.', '$[', "$['open", '$.items[01]']) {
      assert.equal(parseJsonPath(path), undefined, path);
    }
    assert.equal(jsonPathMasksSupported([mask('$.data.*'), mask('$..email')]), true);
    assert.equal(jsonPathMasksSupported([mask('$.data.*'), mask('$.items[?(@.x)]')]), false);
  });
});
