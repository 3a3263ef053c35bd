import { deepClone, hasMember, isJsonObject, type JsonObject, type JsonValue, setMember } from './json-value.ts';
import { PatchError } from './patch-error.ts';
import { fieldOf, type PatchField, type PatchSchema } from './strategic-merge-schema.ts';

/**
 * Strategic merge patch (`application/strategic-merge-patch+json`) as the API server applies it
 * to a built-in type: lists with a merge key merge element by element, merging lists of
 * primitives become sets, other lists are replaced; the directives `$patch` (replace, delete),
 * `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` act as the
 * server's implementation makes them act, quirks included (a value the original lacks is taken
 * as sent; a deletion list for a list the original lacks becomes that list). Anything the server
 * would compute differently from run to run (it walks a patch's members in random order) or
 * would fail on, and any other `$` key, is refused.
 */

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';

export function applyStrategicMergePatch(document: JsonObject, patch: unknown, schema: PatchSchema): JsonObject {
  if (!isJsonObject(patch)) throw new PatchError('invalid', 'a strategic merge patch must be a JSON object');
  if (hasMember(patch, DIRECTIVE)) throw new PatchError('unsupported', 'a "$patch" directive on the whole object is not resolved');
  return withoutDirectiveKeys(mergeMap(deepClone(document), deepClone(patch), schema)) as JsonObject;
}

/**
 * A value the original lacked is taken as sent, directives inside it unapplied; decoding into the
 * Go type then drops those `$` members (no field of a built-in type, label, annotation or data key
 * can start with `$`), so the stored object has none.
 */
function withoutDirectiveKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutDirectiveKeys);
  if (!isJsonObject(value)) return value;
  const result: JsonObject = {};
  for (const key of Object.keys(value)) if (!key.startsWith('$')) setMember(result, key, withoutDirectiveKeys(value[key] as JsonValue));
  return result;
}

function mergeMap(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): JsonObject {
  if (hasMember(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') {
      delete patch[DIRECTIVE];
      return patch;
    }
    if (directive === 'delete') return {};
    throw new PatchError('invalid', `unknown "$patch" directive ${JSON.stringify(directive)} in a map`);
  }
  for (const key of Object.keys(patch)) checkDirectiveName(key);

  applyRetainKeys(original, patch);
  applySetElementOrders(original, patch, schema);

  const keys = Object.keys(patch);
  for (const key of keys) {
    if (key.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`)) {
      const listKey = key.slice(DELETE_FROM_PRIMITIVE_LIST.length + 1);
      // The server walks members in random order: with both present the outcome could differ run to run.
      if (hasMember(patch, listKey)) throwIfOrderDependent(original, patch, listKey, patch[key] as JsonValue, fieldOf(schema, listKey));
    }
  }
  // The list itself before its deletion list: the order the server's result does not depend on (checked above).
  const ordered = [...keys.filter((key) => !key.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`)), ...keys.filter((key) => key.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`))];
  for (const rawKey of ordered) {
    const patchValue = patch[rawKey] as JsonValue;
    const isDeleteList = rawKey.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`);
    const key = isDeleteList ? rawKey.slice(DELETE_FROM_PRIMITIVE_LIST.length + 1) : rawKey;

    if (patchValue === null) {
      delete original[key];
      continue;
    }
    if (!hasMember(original, key)) {
      setMember(original, key, patchValue);
      continue;
    }
    const originalValue = original[key] as JsonValue;
    if (jsonKind(originalValue) !== jsonKind(patchValue)) {
      setMember(original, key, patchValue);
      continue;
    }
    const field = fieldOf(schema, key);
    if (isJsonObject(originalValue) && isJsonObject(patchValue)) {
      setMember(original, key, field?.replace ? patchValue : mergeMap(originalValue, patchValue, field?.schema));
    } else if (Array.isArray(originalValue) && Array.isArray(patchValue)) {
      setMember(original, key, field?.merge ? mergeSlice(originalValue, patchValue, field.mergeKey, field.schema, isDeleteList) : patchValue);
    } else {
      setMember(original, key, patchValue);
    }
  }
  return original;
}

function checkDirectiveName(key: string): void {
  if (!key.startsWith('$')) return;
  if (key === RETAIN_KEYS) return;
  for (const prefix of [SET_ELEMENT_ORDER, DELETE_FROM_PRIMITIVE_LIST]) {
    if (key.startsWith(`${prefix}/`) && key.length > prefix.length + 1) return;
  }
  throw new PatchError('unsupported', `unknown strategic merge patch directive "${key}"`);
}

/** Both orders agree only for a merging list of primitives the original has, when nothing is both added and deleted. */
function throwIfOrderDependent(original: JsonObject, patch: JsonObject, listKey: string, deletions: JsonValue, field: PatchField | undefined): void {
  const additions = patch[listKey];
  const present = hasMember(original, listKey) && Array.isArray(original[listKey]);
  const scalars = (value: JsonValue | undefined): value is JsonValue[] => Array.isArray(value) && value.every((item) => item === null || typeof item !== 'object');
  const disjoint = scalars(additions) && scalars(deletions) && scalars(original[listKey]) && !additions.some((item) => deletions.includes(item));
  if (!present || !disjoint || !field?.merge || field.mergeKey !== undefined) {
    throw new PatchError('unsupported', `"${listKey}" and "${DELETE_FROM_PRIMITIVE_LIST}/${listKey}" together give a result that depends on the order the API server reads them`);
  }
}

function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!hasMember(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain) || retain.some((item) => typeof item === 'object' && item !== null)) throw new PatchError('invalid', '"$retainKeys" must be a list of names');
  const kept = new Set(retain.filter((item): item is string => typeof item === 'string'));
  for (const key of Object.keys(patch)) {
    if (patch[key] === null || key.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`) || key.startsWith(`${SET_ELEMENT_ORDER}/`)) continue;
    if (!kept.has(key)) throw new PatchError('invalid', `"${key}" is in the patch but not in its "$retainKeys"`);
  }
  for (const key of Object.keys(original)) if (!kept.has(key)) delete original[key];
}

function applySetElementOrders(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(`${SET_ELEMENT_ORDER}/`)) continue;
    const order = patch[directiveKey];
    delete patch[directiveKey];
    if (!Array.isArray(order)) throw new PatchError('invalid', `"${directiveKey}" must be a list`);
    const listKey = directiveKey.slice(SET_ELEMENT_ORDER.length + 1);
    const field = fieldOf(schema, listKey);
    const mergeKey = field?.mergeKey;
    const foundOriginal = hasMember(original, listKey);
    const foundPatch = hasMember(patch, listKey);
    const originalList = foundOriginal ? asList(original[listKey], listKey) : [];
    const patchList = foundPatch ? asList(patch[listKey], listKey) : [];
    if (mergeKey !== undefined) order.forEach((item) => keyOf(item, mergeKey));
    checkPatchFollowsOrder(patchList, order, mergeKey);

    let merged: JsonValue[];
    if (foundOriginal && foundPatch) merged = field?.merge ? mergeSlice(originalList, patchList, mergeKey, field.schema, false) : patchList;
    else if (foundOriginal) merged = originalList;
    else if (foundPatch) merged = patchList;
    else continue;

    const kind = elementKind([...originalList, ...patchList]);
    if (kind === 'object' && mergeKey === undefined) throw new PatchError('unsupported', `"${directiveKey}" orders a list of objects that has no merge key`);
    const inOrder = (item: JsonValue) => indexIn(order, item, mergeKey, kind) >= 0;
    if (kind === 'object') merged.forEach((item) => keyOf(item, mergeKey as string));
    const patchItems = merged.filter(inOrder);
    const serverOnly = merged.filter((item) => !inOrder(item));
    setMember(original, listKey, normalizeOrder(patchItems, serverOnly, order, originalList, mergeKey, kind));
    delete patch[listKey];
  }
}

/** Every element the patch lists (deletions aside) must appear in `$setElementOrder`, in its order. */
function checkPatchFollowsOrder(patchList: JsonValue[], order: JsonValue[], mergeKey: string | undefined): void {
  if (order.length === 0 || patchList.length === 0) return;
  const plain = mergeKey === undefined ? patchList : patchList.filter((item) => !(isJsonObject(item) && item[DIRECTIVE] === 'delete'));
  let orderIndex = 0;
  for (const item of plain) {
    if (isJsonObject(item) && hasMember(item, DIRECTIVE)) continue;
    while (orderIndex < order.length && !sameElement(item, order[orderIndex] as JsonValue, mergeKey)) orderIndex += 1;
    if (orderIndex >= order.length) throw new PatchError('invalid', 'the order of a patch list does not match its "$setElementOrder" list');
    orderIndex += 1;
  }
}

function sameElement(left: JsonValue, right: JsonValue, mergeKey: string | undefined): boolean {
  if (mergeKey === undefined) return left === right;
  return keyOf(left, mergeKey) === keyOf(right, mergeKey);
}

function mergeSlice(original: JsonValue[], patch: JsonValue[], mergeKey: string | undefined, schema: PatchSchema | undefined, isDeleteList: boolean): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind([...original, ...patch]);
  if (kind !== 'object') {
    if (isDeleteList) return original.filter((item) => !patch.some((deleted) => deleted === item));
    const merged = dedupe([...original, ...patch]);
    return normalizeOrder(
      merged.filter((item) => patch.includes(item)),
      merged.filter((item) => !patch.includes(item)),
      patch,
      original,
      undefined,
      kind,
    );
  }
  if (mergeKey === undefined) throw new PatchError('invalid', 'cannot merge a list of objects without a merge key');

  let base = original;
  let plainPatch: JsonValue[] = [];
  let replace = false;
  for (const item of patch) {
    const element = item as JsonObject;
    if (!hasMember(element, DIRECTIVE)) {
      plainPatch.push(item);
      continue;
    }
    const directive = element[DIRECTIVE];
    if (directive === 'delete') {
      if (!hasMember(element, mergeKey)) throw new PatchError('invalid', `a "$patch: delete" element has no merge key "${mergeKey}"`);
      const value = keyOf(element, mergeKey);
      base = base.filter((candidate) => !(hasMember(candidate as JsonObject, mergeKey) && keyOf(candidate, mergeKey) === value));
    } else if (directive === 'replace') {
      replace = true;
    } else {
      throw new PatchError('invalid', `"$patch: ${String(directive)}" is not allowed in a list`);
    }
  }
  if (replace) {
    base = plainPatch;
    plainPatch = [];
  }

  const merged = [...base];
  for (const item of plainPatch) {
    const element = item as JsonObject;
    if (!hasMember(element, mergeKey)) throw new PatchError('invalid', `a list element has no merge key "${mergeKey}"`);
    const value = keyOf(element, mergeKey);
    const at = merged.findIndex((candidate) => hasMember(candidate as JsonObject, mergeKey) && keyOf(candidate, mergeKey) === value);
    if (at >= 0) merged[at] = mergeMap(merged[at] as JsonObject, element, schema);
    else merged.push(item);
  }
  const inPatch = (item: JsonValue) => indexIn(plainPatch, item, mergeKey, kind) >= 0;
  merged.forEach((item) => keyOf(item, mergeKey));
  return normalizeOrder(merged.filter(inPatch), merged.filter((item) => !inPatch(item)), plainPatch, base, mergeKey, kind);
}

/**
 * Patch items in the patch's order, server-only items in the live order, then interleaved as
 * the live list had them. Every item must be found in the order it is sorted by: otherwise the
 * server's sort has no defined result, and the patch is refused.
 */
function normalizeOrder(patchItems: JsonValue[], serverOnly: JsonValue[], patchOrder: JsonValue[], serverOrder: JsonValue[], mergeKey: string | undefined, kind: ElementKind): JsonValue[] {
  const sortedPatch = sortBy(patchItems, patchOrder, mergeKey, kind);
  const sortedServer = sortBy(serverOnly, serverOrder, mergeKey, kind);
  const result: JsonValue[] = [];
  let left = 0;
  let right = 0;
  while (left < sortedServer.length || right < sortedPatch.length) {
    if (left >= sortedServer.length) result.push(sortedPatch[right++] as JsonValue);
    else if (right >= sortedPatch.length) result.push(sortedServer[left++] as JsonValue);
    else {
      const leftIndex = indexIn(serverOrder, sortedServer[left] as JsonValue, mergeKey, kind);
      const rightIndex = indexIn(serverOrder, sortedPatch[right] as JsonValue, mergeKey, kind);
      if (leftIndex >= 0 && rightIndex >= 0 && leftIndex < rightIndex) result.push(sortedServer[left++] as JsonValue);
      else result.push(sortedPatch[right++] as JsonValue);
    }
  }
  return result;
}

function sortBy(items: JsonValue[], order: JsonValue[], mergeKey: string | undefined, kind: ElementKind): JsonValue[] {
  const deletions = kind === 'object' ? items.filter((item) => (item as JsonObject)[DIRECTIVE] === 'delete') : [];
  const rest = kind === 'object' ? items.filter((item) => (item as JsonObject)[DIRECTIVE] !== 'delete') : [...items];
  const indexes = rest.map((item) => indexIn(order, item, mergeKey, kind));
  if (rest.length > 1 && indexes.some((index) => index < 0)) {
    throw new PatchError('unsupported', 'a merged list has elements whose order the API server leaves undefined');
  }
  const sorted = rest.map((item, position) => ({ item, index: indexes[position] as number })).sort((a, b) => a.index - b.index);
  return [...sorted.map((entry) => entry.item), ...deletions];
}

function indexIn(list: JsonValue[], item: JsonValue, mergeKey: string | undefined, kind: ElementKind): number {
  if (kind !== 'object') return list.indexOf(item);
  const wanted = valueOfKey(item, mergeKey as string);
  return list.findIndex((candidate) => valueOfKey(candidate, mergeKey as string) === wanted);
}

function valueOfKey(item: JsonValue, mergeKey: string): JsonValue | undefined {
  return isJsonObject(item) && hasMember(item, mergeKey) ? item[mergeKey] : undefined;
}

/** A merge key's value; one the server cannot compare (an object or list) is refused. */
function keyOf(item: JsonValue, mergeKey: string): JsonValue {
  if (!isJsonObject(item) || !hasMember(item, mergeKey)) throw new PatchError('invalid', `a list element has no merge key "${mergeKey}"`);
  const value = item[mergeKey] as JsonValue;
  if (typeof value === 'object' && value !== null) throw new PatchError('invalid', `merge key "${mergeKey}" holds an object or list`);
  return value;
}

type ElementKind = 'object' | 'string' | 'number' | 'boolean';

/** The one type of a merging list's elements; mixed types, nulls and nested lists fail on the server. */
function elementKind(items: JsonValue[]): ElementKind {
  let kind: ElementKind | undefined;
  for (const item of items) {
    const current = jsonKind(item);
    if (current === 'null' || current === 'array') throw new PatchError('invalid', 'a merging list may hold neither null nor nested lists');
    if (kind !== undefined && kind !== current) throw new PatchError('invalid', 'the elements of a merging list are not all of one type');
    kind = current;
  }
  if (kind === undefined) throw new PatchError('invalid', 'no elements to order in a list');
  return kind;
}

function jsonKind(value: JsonValue): ElementKind | 'null' | 'array' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as ElementKind;
}

function dedupe(items: JsonValue[]): JsonValue[] {
  return items.filter((item, index) => items.indexOf(item) === index);
}

function asList(value: JsonValue | undefined, key: string): JsonValue[] {
  if (!Array.isArray(value)) throw new PatchError('invalid', `"${key}" must be a list where "$setElementOrder/${key}" orders it`);
  return value;
}
