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
  const text = write(value, '', 0, new Set());
  if (text === undefined) throw new TypeError('canonicalJson: the value has no JSON form');
  return text;
}

// Strings without quotes, backslashes, control characters or surrogates need no escaping:
// writing them directly is what JSON.stringify would write, only faster.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

// Member names repeat in every record: each is quoted once (bounded, so odd input cannot grow it).
const quotedNames = new Map<string, string>();
const MAX_QUOTED_NAMES = 4096;

function quoteName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = quote(name);
    if (quotedNames.size < MAX_QUOTED_NAMES) quotedNames.set(name, quoted);
  }
  return quoted;
}

// Records nest a few levels: the cycle check (a set of ancestors) only starts this deep, where
// any cycle still gets caught within one more turn of it.
const UNCHECKED_DEPTH = 32;

function write(input: unknown, key: string, depth: number, ancestors: Set<object>): string | undefined {
  let value = input;
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      // JSON.stringify writes finite numbers as Number#toString does, and the rest as null.
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new TypeError('canonicalJson: a BigInt has no JSON form');
    default:
      break;
  }
  if (value === null) return 'null';
  const object = value as object;
  // Boxed primitives (new String('x')) serialise as their primitive, as in JSON.stringify.
  if (object instanceof String || object instanceof Number || object instanceof Boolean) {
    return write(object.valueOf(), key, depth, ancestors);
  }
  const checked = depth >= UNCHECKED_DEPTH;
  if (checked) {
    if (ancestors.has(object)) throw new TypeError('canonicalJson: the value contains a cycle');
    ancestors.add(object);
  }
  try {
    if (Array.isArray(object)) {
      let text = '[';
      for (let index = 0; index < object.length; index += 1) {
        if (index > 0) text += ',';
        text += write(object[index], String(index), depth + 1, ancestors) ?? 'null';
      }
      return `${text}]`;
    }
    let text = '{';
    let first = true;
    for (const name of Object.keys(object).sort()) {
      const member = write((object as Record<string, unknown>)[name], name, depth + 1, ancestors);
      if (member === undefined) continue;
      text += first ? `${quoteName(name)}:${member}` : `,${quoteName(name)}:${member}`;
      first = false;
    }
    return `${text}}`;
  } finally {
    if (checked) ancestors.delete(object);
  }
}
