import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** A copy of a value that conforms to the schema, holding only the members the schema names. */
export type KnownFieldsCopy = (value: unknown) => unknown;

/**
 * Builds, once per schema, what `Value.Clean(schema, structuredClone(value))` does for a value the
 * compiled check already accepted — without the deep clone and without TypeBox's interpreted
 * check of every union member, which cost a PDP most of its intake time for batches of hundreds of
 * session events. Objects, arrays and unions told apart by a literal discriminator are copied here
 * member by member (in the value's own order), tuples position by position; any other schema that can hold an object (records,
 * intersections, references, additional properties, unions without a discriminator) is left to
 * TypeBox on a deep copy, as before. Strings, numbers and booleans are immutable and shared.
 */
export function knownFieldsCopy(schema: TSchema): KnownFieldsCopy {
  switch (schema[Kind]) {
    case 'Object':
      return objectCopy(schema);
    case 'Array':
      return arrayCopy(schema);
    case 'Union':
      return unionCopy(schema);
    case 'Tuple':
      return tupleCopy(schema);
    case 'Record':
    case 'Intersect':
    case 'Ref':
    case 'This':
    case 'Import':
      return cleanedCopy(schema);
    default:
      // Literals, strings, numbers, booleans, null: nothing to drop. An object where the schema
      // expects none (Unknown, Any, Unsafe) is copied whole, as TypeBox leaves it.
      return (value) => (isObjectLike(value) ? ownCopy(value) : value);
  }
}

function objectCopy(schema: TSchema): KnownFieldsCopy {
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  // Kept members that are checked against a schema of their own, or a name assignment would turn
  // into a prototype: TypeBox's path.
  if (schema.additionalProperties !== undefined && typeof schema.additionalProperties !== 'boolean') return cleanedCopy(schema);
  if (Object.hasOwn(properties, '__proto__')) return cleanedCopy(schema);
  const members = new Map<string, KnownFieldsCopy>();
  for (const [name, member] of Object.entries(properties)) members.set(name, knownFieldsCopy(member));
  const fallback = cleanedCopy(schema);
  return (value) => {
    if (!isPlainRecord(value)) return fallback(value);
    const copy: Record<string, unknown> = {};
    for (const name of Object.keys(value)) {
      const member = members.get(name);
      if (member !== undefined) copy[name] = member(value[name]);
    }
    return copy;
  };
}

function arrayCopy(schema: TSchema): KnownFieldsCopy {
  const items = knownFieldsCopy(schema.items as TSchema);
  const fallback = cleanedCopy(schema);
  return (value) => (Array.isArray(value) ? value.map((item) => items(item)) : fallback(value));
}

/** As TypeBox: the positions the tuple names, no more. */
function tupleCopy(schema: TSchema): KnownFieldsCopy {
  const positions = ((schema.items as TSchema[] | undefined) ?? []).map((item) => knownFieldsCopy(item));
  const fallback = cleanedCopy(schema);
  return (value) => {
    if (!Array.isArray(value)) return fallback(value);
    const length = Math.min(value.length, positions.length);
    const copy = new Array<unknown>(length);
    for (let index = 0; index < length; index += 1) copy[index] = positions[index]!(value[index]);
    return copy;
  };
}

function unionCopy(schema: TSchema): KnownFieldsCopy {
  const fallback = cleanedCopy(schema);
  const variants = discriminatedVariants(schema);
  if (variants === undefined) {
    // A union of scalars (status: success | failure) holds nothing to drop; one that may hold an object is TypeBox's.
    return (value) => (isObjectLike(value) ? fallback(value) : value);
  }
  const { propertyName, byTag } = variants;
  return (value) => {
    if (!isPlainRecord(value)) return isObjectLike(value) ? fallback(value) : value;
    const tag = value[propertyName];
    const variant = typeof tag === 'string' && Object.hasOwn(value, propertyName) ? byTag.get(tag) : undefined;
    return variant === undefined ? fallback(value) : variant(value);
  };
}

/**
 * The union's members by the literal of its discriminator, when every member is an object that
 * requires that member with a literal of its own: a value the check accepted matches one member
 * only, the one TypeBox's Clean would pick as the first whose check passes.
 */
function discriminatedVariants(schema: TSchema): { propertyName: string; byTag: Map<string, KnownFieldsCopy> } | undefined {
  const propertyName = (schema.discriminator as { propertyName?: unknown } | undefined)?.propertyName;
  if (typeof propertyName !== 'string') return undefined;
  const byTag = new Map<string, KnownFieldsCopy>();
  for (const variant of schema.anyOf as TSchema[]) {
    if (variant[Kind] !== 'Object') return undefined;
    const tag = (variant.properties as Record<string, TSchema> | undefined)?.[propertyName];
    const required = (variant.required as string[] | undefined) ?? [];
    if (tag === undefined || tag[Kind] !== 'Literal' || typeof tag.const !== 'string' || !required.includes(propertyName) || byTag.has(tag.const)) return undefined;
    byTag.set(tag.const, objectCopy(variant));
  }
  return byTag.size > 0 ? { propertyName, byTag } : undefined;
}

/** TypeBox's own way: a deep copy, then its Clean. */
function cleanedCopy(schema: TSchema): KnownFieldsCopy {
  return (value) => Value.Clean(schema, ownCopy(value));
}

function isObjectLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * A deep copy that keeps every own member, `"__proto__"` included: a JSON body may name one, and
 * a copy made by assignment would turn it into the copy's prototype, so policy would see less
 * than the body holds. Values that are not plain data (never on the wire) fall back to TypeBox.
 */
export function ownCopy(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return Value.Clone(value);
  }
}
