/**
 * The canonical JSON of a value, as audit hashes and digest signatures are computed over it:
 * object keys sorted by UTF-16 code units (JavaScript's default sort), no whitespace, strings and
 * numbers exactly as `JSON.stringify` writes them, `undefined` members absent.
 *
 * Everything else follows `JSON.stringify` too (toJSON, undefined/functions/symbols in arrays
 * become null, non-finite numbers become null), so a value and its JSON round trip always have
 * the same canonical form: the producer hashes the object it holds, the verifier the line it reads.
 * Throws a TypeError for a value that has no JSON form (a bare undefined, a BigInt, a cycle).
 */
export function canonicalJson(value: unknown): string {
  const text = write(value, '', new Set());
  if (text === undefined) throw new TypeError('canonicalJson: the value has no JSON form');
  return text;
}

function write(input: unknown, key: string, ancestors: Set<object>): string | undefined {
  let value = input;
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return JSON.stringify(value);
  }
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') throw new TypeError('canonicalJson: a BigInt has no JSON form');
  const object = value as object;
  // Boxed primitives (new String('x')) serialise as their primitive, as in JSON.stringify.
  if (object instanceof String || object instanceof Number || object instanceof Boolean) {
    return JSON.stringify(object.valueOf());
  }
  if (ancestors.has(object)) throw new TypeError('canonicalJson: the value contains a cycle');
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      const items = object.map((item, index) => write(item, String(index), ancestors) ?? 'null');
      return `[${items.join(',')}]`;
    }
    const members: string[] = [];
    for (const name of Object.keys(object).sort()) {
      const member = write((object as Record<string, unknown>)[name], name, ancestors);
      if (member !== undefined) members.push(`${JSON.stringify(name)}:${member}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(object);
  }
}
