/** Narrow reads of untyped JSON (audit bodies, records read back): a wrong type reads as absent. */

export type JsonObject = Record<string, unknown>;

export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Counts, sizes and durations: finite and not negative. */
export function asNonNegative(value: unknown): number | undefined {
  const number = asNumber(value);
  return number !== undefined && number >= 0 ? number : undefined;
}

export function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** `object.a.b.c`, or undefined as soon as a step is not an object. */
export function fieldAt(value: unknown, ...path: string[]): unknown {
  let current: unknown = value;
  for (const name of path) {
    const object = asObject(current);
    if (!object) return undefined;
    current = object[name];
  }
  return current;
}
