// The audit record schema of @portcullis/contract checked against the OCSF 1.8.0 schema's own
// files: every attribute it names is one OCSF defines at that place, of a compatible type, and
// every attribute OCSF requires there is required by the contract.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUDIT_RECORD_CLASSES, OCSF_SCHEMA_VERSION } from '@portcullis/contract';
import type { TSchema } from '@sinclair/typebox';
import { OCSF_SCHEMA_DIR } from '../support/ocsf-validator.ts';
import { readOcsfSchema, type OcsfItem, type OcsfSchema } from '../support/ocsf-schema.ts';

// The contract's JSON types each OCSF primitive can be written as.
const JSON_TYPES: Record<string, readonly string[]> = {
  string_t: ['string'], integer_t: ['integer'], long_t: ['integer'], float_t: ['number', 'integer'], boolean_t: ['boolean'], json_t: ['string', 'integer', 'number', 'boolean', 'object', 'array', 'null'],
};

/** The JSON types a schema accepts (a union's members', a literal's). */
function jsonTypes(schema: TSchema): string[] {
  if (schema.anyOf) return (schema.anyOf as TSchema[]).flatMap(jsonTypes);
  if (schema.const !== undefined) return [Number.isInteger(schema.const) ? 'integer' : typeof schema.const];
  return [schema.type as string];
}

/** What is wrong with the contract schema `schema` of OCSF item `item` at `path` (nothing: []). */
function problems(ocsf: OcsfSchema, item: OcsfItem, schema: TSchema, path: string, profiles: readonly string[]): string[] {
  const found: string[] = [];
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  const required = new Set<string>((schema.required as string[] | undefined) ?? []);
  for (const [name, property] of Object.entries(properties)) {
    const at = path ? `${path}.${name}` : name;
    const attribute = item.attributes.get(name);
    if (!attribute) {
      found.push(`${at}: ${item.name} defines no attribute "${name}"`);
      continue;
    }
    if (attribute.profiles && !attribute.profiles.some((profile) => profiles.includes(profile))) {
      found.push(`${at}: only in profile(s) ${attribute.profiles.join(', ')}`);
    }
    const value = attribute.isArray ? (property.type === 'array' ? (property.items as TSchema) : undefined) : property;
    if (!value) {
      found.push(`${at}: OCSF has an array, the contract ${property.type}`);
      continue;
    }
    if (attribute.primitive === 'object_t') {
      if (!jsonTypes(value).every((type) => type === 'object')) found.push(`${at}: OCSF has an object (${attribute.objectType}), the contract ${jsonTypes(value).join('|')}`);
      const object = ocsf.objects.get(attribute.objectType!);
      // `unmapped` is OCSF's open object: whatever the contract puts there is the source's own.
      if (object && object.attributes.size > 0) found.push(...problems(ocsf, object, value, at, profiles));
      continue;
    }
    const allowed = JSON_TYPES[attribute.primitive] ?? [];
    const written = jsonTypes(value);
    if (!written.every((type) => allowed.includes(type))) found.push(`${at}: OCSF type ${attribute.type} (${attribute.primitive}), the contract ${written.join('|')}`);
  }
  for (const attribute of item.attributes.values()) {
    if (attribute.requirement === 'required' && !attribute.profiles && !required.has(attribute.name)) {
      found.push(`${path ? `${path}.` : ''}${attribute.name}: required by OCSF (${item.name}), optional or absent in the contract`);
    }
  }
  return found;
}

describe('the audit record contract against the OCSF 1.8.0 schema', () => {
  const ocsf = readOcsfSchema(OCSF_SCHEMA_DIR);

  test('the contract and the schema files are of the same OCSF version', () => {
    assert.equal(ocsf.version, OCSF_SCHEMA_VERSION);
  });

  for (const [classUid, schema] of Object.entries(AUDIT_RECORD_CLASSES)) {
    test(`${schema.$id}: every attribute is OCSF's for class ${classUid}, of its type, with every required one required`, () => {
      const ocsfClass = ocsf.classes.get(Number(classUid));
      assert.ok(ocsfClass, `OCSF defines no class ${classUid}`);
      assert.deepEqual(problems(ocsf, ocsfClass, schema, '', ['security_control']), []);
    });
  }

  test('the check finds what does not belong: an unknown attribute, a wrong type, a missing required one', () => {
    const datastore = ocsf.classes.get(6005)!;
    const wrong = { type: 'object', required: ['metadata'], properties: { metadata: { type: 'object', properties: {} }, query_time: { type: 'integer' }, time: { type: 'string' } } };
    const found = problems(ocsf, datastore, wrong as unknown as TSchema, '', []);
    assert.ok(found.some((problem) => problem.startsWith('query_time: datastore_activity defines no attribute')), found.join('\n'));
    assert.ok(found.some((problem) => problem.startsWith('time: OCSF type timestamp_t')), found.join('\n'));
    assert.ok(found.some((problem) => problem.startsWith('class_uid: required by OCSF')), found.join('\n'));
    assert.ok(found.some((problem) => problem.startsWith('metadata.product: required by OCSF')), found.join('\n'));
  });
});
