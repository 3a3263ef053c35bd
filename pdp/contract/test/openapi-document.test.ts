import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { OPENAPI_PATH, openApiText } from '../src/openapi/openapi-file.ts';

const document = JSON.parse(openApiText()) as { openapi: string; components: { schemas: Record<string, unknown> } };

/** A JSON Schema 2020-12 validator (Ajv, not TypeBox) over the document's components. */
function componentValidator(name: string) {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema({ $id: 'openapi.json', components: document.components });
  const validate = ajv.getSchema(`openapi.json#/components/schemas/${name}`);
  assert.ok(validate, `${name} compiles`);
  return validate;
}

describe('docs/openapi.json', () => {
  it('is what the contract generates (else: npm run -w @portcullis/contract openapi)', () => {
    assert.equal(readFileSync(OPENAPI_PATH, 'utf8'), openApiText(), 'docs/openapi.json is stale: run npm run -w @portcullis/contract openapi and commit it');
  });

  it('is a valid OpenAPI 3.1 document by the OpenAPI Initiative schema, every $ref naming a component it has', async () => {
    const result = await new Validator().validate(document);
    assert.ok(result.valid, JSON.stringify(result.errors));
    assert.equal(document.openapi, '3.1.0');
    const refs = [...openApiText().matchAll(/"\$ref": "#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]!);
    for (const name of new Set(refs)) assert.ok(name in document.components.schemas, `${name} is a component`);
    assert.ok(!openApiText().includes('errorMessage'), 'validator wording stays out of the document');
  });

  it('means to another JSON Schema validator what it means to the contract', () => {
    const request = componentValidator('DecisionRequestV1');
    const resource = { type: 'postgres', name: 'orders-db', labels: { team: 'payments' } };
    assert.ok(request({ resource, action: { type: 'sql', sql: 'SELECT 1', parameters: [{ value: null }] } }));
    assert.ok(request({ resource, action: { type: 'kubernetes', method: 'get', path: '/api', query: { a: ['1'] } } }));
    assert.ok(!request({ resource, action: { type: 'ftp' } }));
    assert.ok(!request({ resource: { type: 'postgres', name: '' }, action: { type: 'shell', command: 'ls' } }));
    assert.ok(!request({ resource, action: { type: 'shell', command: 'ls' }, approval_id: 'not-a-uuid' }));
    const mask = componentValidator('MaskTargetV1');
    assert.ok(mask({ table: 'users', column: 'email', strategy: 'redact' }));
    assert.ok(mask({ kind: 'json-path', path: '$.data.*', strategy: 'redact' }));
    assert.ok(!mask({ kind: 'xml-path', path: '/a', strategy: 'redact' }));
    const display = componentValidator('ActionDisplayV1');
    assert.ok(display({ sql_spans: [[0, 6, 'keyword']], hidden: [], suspicious: [] }));
    assert.ok(!display({ sql_spans: [[0, 6, 'keyword', 1]], hidden: [], suspicious: [] }));
  });
});
