import { Kind, type TSchema } from '@sinclair/typebox';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** A refused field: where (`action.parameters[2].value`) and what is wrong with it (`must be a string`). */
export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

/**
 * Schemas may carry `errorMessage` (as ajv-errors reads it): one text for any failure of that
 * schema, or texts per keyword (`type`, `minLength`, `discriminator` …) over the defaults below.
 */
type ErrorMessage = string | Partial<Record<string, string>>;

/**
 * Names the first field of `value` that `schema` refuses, in the schema's field order, with a
 * sentence saying what it must be. Only subtrees TypeBox itself refuses are visited, so the
 * answer never contradicts the compiled check; `undefined` when the value conforms.
 */
export function firstFieldProblem(schema: TSchema, value: unknown, root = 'body'): FieldProblem | undefined {
  if (Value.Check(schema, value)) return undefined;
  const found = explain(schema, value, '') ?? { field: '', problem: 'does not match the contract' };
  return found.field === '' ? { field: root, problem: found.problem } : found;
}

function explain(schema: TSchema, value: unknown, field: string): FieldProblem | undefined {
  if (Value.Check(schema, value)) return undefined;
  const say = (keyword: string, fallback: string): FieldProblem => ({ field, problem: message(schema, keyword, fallback) });
  if (value === undefined) return { field, problem: 'is required' };
  switch (schema[Kind]) {
    case 'Object':
      return explainObject(schema, value, field) ?? say('type', 'must be an object');
    case 'Record':
      return explainRecord(schema, value, field) ?? say('type', 'must be an object');
    case 'Array':
      return explainArray(schema, value, field);
    case 'Union':
      return explainUnion(schema, value, field);
    case 'String':
      return explainString(schema, value, say);
    case 'Boolean':
      return say('type', 'must be a boolean');
    case 'Integer':
    case 'Number':
      return explainNumber(schema, value, say);
    case 'Null':
      return say('type', 'must be null');
    case 'Literal':
      return say('const', `must be ${JSON.stringify(schema.const)}`);
    default:
      return say('type', 'does not match the contract');
  }
}

function explainObject(schema: TSchema, value: unknown, field: string): FieldProblem | undefined {
  if (!isPlainRecord(value)) return undefined;
  const required = new Set<string>(schema.required ?? []);
  for (const [key, property] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const entry = value[key];
    if (entry === undefined && !required.has(key)) continue;
    const problem = explain(property, entry, join(field, key));
    if (problem) return problem;
  }
  return undefined;
}

function explainRecord(schema: TSchema, value: unknown, field: string): FieldProblem | undefined {
  if (!isPlainRecord(value)) return undefined;
  const entries = Object.values(schema.patternProperties as Record<string, TSchema>);
  const entrySchema = entries[0];
  if (!entrySchema) return undefined;
  for (const [key, entry] of Object.entries(value)) {
    const problem = explain(entrySchema, entry, `${field}.${key}`);
    if (problem) return problem;
  }
  return undefined;
}

function explainArray(schema: TSchema, value: unknown, field: string): FieldProblem {
  const say = (keyword: string, fallback: string): FieldProblem => ({ field, problem: message(schema, keyword, fallback) });
  if (!Array.isArray(value)) return say('type', 'must be an array');
  if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) return say('maxItems', `must have at most ${schema.maxItems} entries`);
  if (typeof schema.minItems === 'number' && value.length < schema.minItems) return say('minItems', `must have at least ${schema.minItems} entries`);
  for (const [index, item] of value.entries()) {
    const problem = explain(schema.items as TSchema, item, `${field}[${index}]`);
    if (problem) return problem;
  }
  return say('items', 'does not match the contract');
}

/**
 * A union marked with `discriminator.propertyName` (OpenAPI's keyword) is read as the variant
 * that property names; another union as the variant of the value's JSON type, if exactly one.
 */
function explainUnion(schema: TSchema, value: unknown, field: string): FieldProblem {
  const variants = schema.anyOf as TSchema[];
  if (typeof schema.errorMessage === 'string') return { field, problem: schema.errorMessage };
  const tag: unknown = schema.discriminator?.propertyName;
  if (typeof tag === 'string') {
    if (!isPlainRecord(value)) return { field, problem: message(schema, 'type', 'must be an object') };
    const tagField = join(field, tag);
    if (value[tag] === undefined) return { field: tagField, problem: 'is required' };
    const chosen = variants.find((variant) => variant.properties?.[tag]?.const === value[tag]);
    if (!chosen) {
      const names = variants.map((variant) => String(variant.properties?.[tag]?.const)).join(', ');
      return { field: tagField, problem: message(schema, 'discriminator', `must be one of ${names}`) };
    }
    return explain(chosen, value, field) ?? { field, problem: 'does not match the contract' };
  }
  const sameType = variants.filter((variant) => jsonTypeFits(variant, value));
  if (sameType.length === 1) return explain(sameType[0]!, value, field) ?? { field, problem: 'does not match the contract' };
  if (variants.every((variant) => variant[Kind] === 'Literal')) {
    return { field, problem: message(schema, 'enum', `must be one of ${variants.map((variant) => String(variant.const)).join(', ')}`) };
  }
  return { field, problem: message(schema, 'type', `must be ${variants.map(typeName).join(' or ')}`) };
}

function explainString(schema: TSchema, value: unknown, say: (keyword: string, fallback: string) => FieldProblem): FieldProblem {
  if (typeof value !== 'string') return say('type', 'must be a string');
  if (typeof schema.minLength === 'number' && value.length < schema.minLength) {
    return say('minLength', schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`);
  }
  if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) return say('maxLength', `must be at most ${schema.maxLength} characters`);
  if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) return say('pattern', `must match ${schema.pattern}`);
  if (typeof schema.format === 'string' && FormatRegistry.Has(schema.format) && !FormatRegistry.Get(schema.format)!(value)) {
    return say('format', `must be a ${schema.format}`);
  }
  return say('type', 'does not match the contract');
}

function explainNumber(schema: TSchema, value: unknown, say: (keyword: string, fallback: string) => FieldProblem): FieldProblem {
  const integer = schema[Kind] === 'Integer';
  const fits = typeof value === 'number' && (integer ? Number.isInteger(value) : Number.isFinite(value));
  if (!fits) return say('type', integer ? 'must be an integer' : 'must be a number');
  if (typeof schema.minimum === 'number' && value < schema.minimum) return say('minimum', `must be at least ${schema.minimum}`);
  if (typeof schema.maximum === 'number' && value > schema.maximum) return say('maximum', `must be at most ${schema.maximum}`);
  return say('type', 'does not match the contract');
}

function message(schema: TSchema, keyword: string, fallback: string): string {
  const custom = schema.errorMessage as ErrorMessage | undefined;
  if (typeof custom === 'string') return custom;
  return custom?.[keyword] ?? fallback;
}

const JSON_TYPE_OF_KIND: Readonly<Record<string, string>> = {
  Object: 'object', Record: 'object', Array: 'array', String: 'string', Boolean: 'boolean', Integer: 'number', Number: 'number', Null: 'null',
};

function jsonTypeFits(schema: TSchema, value: unknown): boolean {
  const expected = schema[Kind] === 'Literal' ? jsonType(schema.const) : JSON_TYPE_OF_KIND[schema[Kind] as string];
  return expected === jsonType(value);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function typeName(schema: TSchema): string {
  if (schema[Kind] === 'Literal') return JSON.stringify(schema.const);
  const type = JSON_TYPE_OF_KIND[schema[Kind] as string] ?? 'a value';
  return type === 'object' || type === 'array' ? `an ${type}` : type === 'null' ? 'null' : `a ${type}`;
}

function join(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
