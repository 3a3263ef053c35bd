import { deepClone, hasMember, isJsonObject, type JsonObject, type JsonValue, setMember } from './json-value.ts';
import { PatchError } from './patch-error.ts';

/**
 * JSON merge patch (RFC 7386, `application/merge-patch+json`): members merge recursively, null
 * removes, anything else (arrays included) replaces. Where the RFC leaves nulls inside replacing
 * values, the API server's library differs, and it is what stores the object: a value set where
 * there was none or no object is stored without null members and null array elements, at any
 * depth; a non-object value replacing an object is stored as sent.
 */
export function applyJsonMergePatch(document: JsonObject, patch: unknown): JsonObject {
  if (!isJsonObject(patch)) throw new PatchError('invalid', 'a merge patch for an object must be a JSON object');
  return mergeInto(deepClone(document), patch);
}

function mergeInto(target: JsonObject, patch: JsonObject): JsonObject {
  for (const key of Object.keys(patch)) {
    const value = patch[key] as JsonValue;
    if (value === null) {
      delete target[key];
      continue;
    }
    const existing = hasMember(target, key) ? target[key] : undefined;
    if (!isJsonObject(existing)) setMember(target, key, withoutNulls(value));
    else if (isJsonObject(value)) setMember(target, key, mergeInto(existing, value));
    else setMember(target, key, value);
  }
  return target;
}

function withoutNulls(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.filter((item) => item !== null).map((item) => withoutNulls(item));
  if (!isJsonObject(value)) return value;
  const pruned: JsonObject = {};
  for (const key of Object.keys(value)) {
    const member = value[key] as JsonValue;
    if (member !== null) setMember(pruned, key, withoutNulls(member));
  }
  return pruned;
}
