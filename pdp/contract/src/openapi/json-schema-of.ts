import type { TSchema } from '@sinclair/typebox';

/** JSON Schema 2020-12 as OpenAPI 3.1 takes it, with every named schema (`$id`) a component. */
export interface ComponentRegistry {
  readonly schemas: Map<string, unknown>;
}

/**
 * A TypeBox schema as plain JSON Schema 2020-12: named sub-schemas become `$ref`s to components
 * (registered once), tuples use `prefixItems`, records `additionalProperties`, and the
 * contract's `errorMessage` wording (validator text, not a type) is left out.
 */
export function jsonSchemaOf(schema: TSchema, registry: ComponentRegistry, top = false): unknown {
  const id = schema.$id;
  if (typeof id === 'string' && !top) {
    if (!registry.schemas.has(id)) {
      registry.schemas.set(id, {});
      registry.schemas.set(id, jsonSchemaOf(schema, registry, true));
    }
    return { $ref: `#/components/schemas/${id}` };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$id' || key === 'errorMessage' || key === 'additionalItems') continue;
    if (key === 'items' && Array.isArray(value)) {
      out.prefixItems = value.map((item: TSchema) => jsonSchemaOf(item, registry));
      out.items = false;
    } else if (key === 'patternProperties' && isRecordPattern(value)) {
      out.additionalProperties = jsonSchemaOf(Object.values(value)[0] as TSchema, registry);
    } else if (key === 'properties' || key === 'patternProperties') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, TSchema>).map(([name, property]) => [name, jsonSchemaOf(property, registry)]));
    } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      out[key] = (value as TSchema[]).map((item) => jsonSchemaOf(item, registry));
    } else if ((key === 'items' || key === 'not' || key === 'additionalProperties') && typeof value === 'object' && value !== null) {
      out[key] = jsonSchemaOf(value as TSchema, registry);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** TypeBox's Record(String, …): one pattern that takes every key. */
function isRecordPattern(value: unknown): value is Record<string, TSchema> {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 1 && Object.keys(value)[0] === '^(.*)$';
}
