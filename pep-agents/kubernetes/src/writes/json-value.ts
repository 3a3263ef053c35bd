/**
 * JSON values as the API server's decoders see them, and the few operations every patch type
 * needs. Members are always set as own data properties: a key such as `__proto__` in a client's
 * body is a field like any other, never a way to reach an object's prototype.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function setMember(target: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function hasMember(target: JsonObject, key: string): boolean {
  return Object.hasOwn(target, key);
}

export function getMember(target: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}

export function deepClone<T extends JsonValue>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => deepClone(item)) as T;
  if (isJsonObject(value)) {
    const copy: JsonObject = {};
    for (const key of Object.keys(value)) setMember(copy, key, deepClone(value[key] as JsonValue));
    return copy as T;
  }
  return value;
}

export function deepEqual(left: JsonValue | undefined, right: JsonValue | undefined): boolean {
  if (left === right) return true;
  if (Array.isArray(left)) {
    return Array.isArray(right) && left.length === right.length && left.every((item, index) => deepEqual(item, right[index]));
  }
  if (isJsonObject(left) && isJsonObject(right)) {
    const keys = Object.keys(left);
    if (keys.length !== Object.keys(right).length) return false;
    return keys.every((key) => hasMember(right, key) && deepEqual(left[key], right[key]));
  }
  return false;
}

/** The encoded size of a value, for bounding what a patch may build. */
export function encodedSize(value: JsonValue): number {
  return Buffer.byteLength(JSON.stringify(value));
}
