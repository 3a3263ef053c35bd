import type { JsonPathMaskV1 } from '@portcullis/pep-core';

/**
 * Where an API object sits in each response shape the API server sends for a read: the body
 * itself (get), a list's `items`, a table's rows (`as=Table`, with `includeObject` Object or
 * Metadata), a watch event's `object`, and a list or table inside a watch event (`kubectl get
 * --watch` asks for tables). Each place replaces the `$` of an object's path.
 */
export const OBJECT_PLACES = ['$', '$.items[*]', '$.rows[*].object', '$.object', '$.object.items[*]', '$.object.rows[*].object'] as const;

// Longest first, so `$.object.rows[*].object.data` is read as `$.data` inside a watched table row.
const PLACES_LONGEST_FIRST = [...OBJECT_PLACES].filter((place) => place !== '$').sort((a, b) => b.length - a.length);

/**
 * Every mask path, applied at each place an object can sit. A path policy writes for one shape
 * (`$.data.*`, or `$.items[*].data.*`) is read as the object's path (`$.data.*`) and then masks
 * the same values in every other shape a client may ask for (a list, a table, a watch), so no
 * Accept header, query or watch shows what a get hides. Lifting only ever adds what is masked:
 * the path as written is always among the results.
 */
export function liftToObjectPlaces(masks: readonly JsonPathMaskV1[]): JsonPathMaskV1[] {
  const lifted = new Map<string, JsonPathMaskV1>();
  const add = (mask: JsonPathMaskV1, path: string): void => {
    // Policy naming every shape itself lifts to the same paths again: each is applied once.
    const key = `${mask.strategy}\u0000${path}`;
    if (!lifted.has(key)) lifted.set(key, { ...mask, path });
  };
  for (const mask of masks) {
    const objectPath = objectPathOf(mask.path);
    for (const place of OBJECT_PLACES) add(mask, place + objectPath.slice(1));
    add(mask, mask.path);
  }
  return [...lifted.values()];
}

/** `$.items[*].data.*` → `$.data.*`; a path naming no place is the object's path already. */
function objectPathOf(path: string): string {
  for (const place of PLACES_LONGEST_FIRST) {
    const rest = path.slice(place.length);
    if (path.startsWith(place) && (rest === '' || rest.startsWith('.') || rest.startsWith('['))) return `$${rest}`;
  }
  return path;
}
