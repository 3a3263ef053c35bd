import { deepClone, deepEqual, hasMember, isJsonObject, type JsonObject, type JsonValue, setMember } from './json-value.ts';
import { PatchError } from './patch-error.ts';
import { fieldOf, type PatchField, type PatchSchema } from './strategic-merge-schema.ts';

/**
 * Server-side apply (`application/apply-patch+yaml`): the applied configuration over the current
 * object. Maps merge member by member (an atomic map is replaced); associative lists (by their
 * list-map keys) merge element by element; set lists take the union; any other list is replaced.
 * For a kind whose schema is not known, a list present on both sides is refused, since its list
 * type is not known. What this does not compute: fields the same field manager applied before and now omits,
 * which the API server removes. The result can only hold more than is stored, never less, and
 * what it holds beyond is what was stored and decided already.
 */
export function applyServerSide(current: JsonObject | undefined, applied: unknown, schema: PatchSchema | undefined): JsonObject {
  if (!isJsonObject(applied)) throw new PatchError('invalid', 'an apply configuration must be one object');
  rejectNulls(applied, '');
  if (current === undefined) return deepClone(applied);
  return mergeObject(deepClone(current), applied, schema, schema !== undefined);
}

function mergeObject(current: JsonObject, applied: JsonObject, schema: PatchSchema | undefined, modelled: boolean): JsonObject {
  for (const key of Object.keys(applied)) {
    const value = applied[key] as JsonValue;
    const existing = hasMember(current, key) ? current[key] : undefined;
    const field = fieldOf(schema, key);
    if (isJsonObject(value) && isJsonObject(existing) && !field?.atomicMap) {
      setMember(current, key, mergeObject(existing, value, field?.schema, modelled));
    } else if (Array.isArray(value) && Array.isArray(existing)) {
      setMember(current, key, mergeList(existing, value, field, modelled, key));
    } else {
      setMember(current, key, deepClone(value));
    }
  }
  return current;
}

function mergeList(current: JsonValue[], applied: JsonValue[], field: PatchField | undefined, modelled: boolean, key: string): JsonValue[] {
  if (!modelled) throw new PatchError('unsupported', `"${key}": how this kind's lists merge under server-side apply is not modelled`);
  const listType = field?.listType ?? (field?.merge ? (field.mergeKey === undefined ? 'set' : 'map') : 'atomic');
  if (listType === 'atomic') return deepClone(applied);
  if (listType === 'set') {
    const union = [...current];
    for (const item of applied) if (!union.some((existing) => deepEqual(existing, item))) union.push(item);
    return union;
  }
  const keys = field?.listMapKeys ?? (field?.mergeKey === undefined ? [] : [field.mergeKey]);
  if (keys.length === 0) throw new PatchError('unsupported', `"${key}" is an associative list without keys`);
  const merged = [...current];
  for (const item of applied) {
    if (!isJsonObject(item)) throw new PatchError('invalid', `"${key}" holds an element that is not an object`);
    const at = merged.findIndex((existing) => isJsonObject(existing) && keys.every((name) => deepEqual(keyValue(existing, name), keyValue(item, name))));
    if (at >= 0) merged[at] = mergeObject(merged[at] as JsonObject, item, field?.schema, true);
    else merged.push(deepClone(item));
  }
  return merged;
}

/** A list-map key the object leaves out: `protocol` is defaulted to TCP before apply merges. */
function keyValue(item: JsonObject, name: string): JsonValue | undefined {
  if (hasMember(item, name)) return item[name];
  return name === 'protocol' ? 'TCP' : undefined;
}

function rejectNulls(value: JsonValue, path: string): void {
  if (value === null) throw new PatchError('unsupported', `an apply configuration with null at "${path}" is not resolved`);
  if (Array.isArray(value)) value.forEach((item, index) => rejectNulls(item, `${path}[${index}]`));
  else if (isJsonObject(value)) for (const key of Object.keys(value)) rejectNulls(value[key] as JsonValue, `${path}.${key}`);
}
