/**
 * The part of RFC 9535 JSONPath a mask obligation needs to name values in a structured result:
 * `$`, member names (`.name`, `['name']`), indexes (`[0]`, `[-1]`), wildcards (`.*`, `[*]`) and
 * descendants (`..name`, `..*`). Filters, slices and unions are not read: a path using them is
 * refused (`undefined`), so a mask is never applied to less than it names.
 */
export type JsonPathSegment =
  | { readonly kind: 'name'; readonly name: string; readonly descendants: boolean }
  | { readonly kind: 'index'; readonly index: number; readonly descendants: boolean }
  | { readonly kind: 'wildcard'; readonly descendants: boolean };

const NAME = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*/;
const INDEX = /^-?(0|[1-9][0-9]{0,15})$/;

export function parseJsonPath(path: string): JsonPathSegment[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const segments: JsonPathSegment[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    let descendants = false;
    if (rest.startsWith('..')) {
      descendants = true;
      rest = rest.slice(2);
      if (!rest.startsWith('[')) rest = `.${rest}`;
    }
    if (rest.startsWith('.')) {
      rest = rest.slice(1);
      if (rest.startsWith('*')) {
        segments.push({ kind: 'wildcard', descendants });
        rest = rest.slice(1);
        continue;
      }
      const name = NAME.exec(rest)?.[0];
      if (!name) return undefined;
      segments.push({ kind: 'name', name, descendants });
      rest = rest.slice(name.length);
      continue;
    }
    if (!rest.startsWith('[')) return undefined;
    const bracket = readBracket(rest);
    if (!bracket) return undefined;
    segments.push({ ...bracket.segment, descendants });
    rest = rest.slice(bracket.length);
  }
  return segments;
}

type BracketSegment = { readonly kind: 'name'; readonly name: string } | { readonly kind: 'index'; readonly index: number } | { readonly kind: 'wildcard' };

function readBracket(text: string): { segment: BracketSegment; length: number } | undefined {
  const quote = text[1];
  if (quote === "'" || quote === '"') {
    let name = '';
    for (let at = 2; at < text.length; at += 1) {
      const char = text[at]!;
      if (char === '\\') {
        const next = text[at + 1];
        if (next !== quote && next !== '\\') return undefined;
        name += next;
        at += 1;
      } else if (char === quote) {
        return text[at + 1] === ']' ? { segment: { kind: 'name', name }, length: at + 2 } : undefined;
      } else {
        name += char;
      }
    }
    return undefined;
  }
  const close = text.indexOf(']');
  if (close === -1) return undefined;
  const inner = text.slice(1, close).trim();
  if (inner === '*') return { segment: { kind: 'wildcard' }, length: close + 1 };
  if (INDEX.test(inner)) return { segment: { kind: 'index', index: Number(inner) }, length: close + 1 };
  return undefined;
}

/** Calls `visit` for every value the path selects, with the container and key that hold it. */
export function selectJsonPath(document: unknown, segments: readonly JsonPathSegment[], visit: (holder: Record<string, unknown> | unknown[], key: string | number) => void): void {
  const walk = (value: unknown, index: number): void => {
    if (index === segments.length) return;
    const segment = segments[index]!;
    const last = index === segments.length - 1;
    const candidates = segment.descendants ? [value, ...descendantsOf(value)] : [value];
    for (const candidate of candidates) {
      for (const [holder, key] of children(candidate, segment)) {
        if (last) visit(holder, key);
        else walk((holder as Record<string | number, unknown>)[key], index + 1);
      }
    }
  };
  walk(document, 0);
}

function children(value: unknown, segment: JsonPathSegment): Array<[Record<string, unknown> | unknown[], string | number]> {
  if (Array.isArray(value)) {
    if (segment.kind === 'wildcard') return value.map((_, index) => [value, index]);
    if (segment.kind === 'index') {
      const index = segment.index < 0 ? value.length + segment.index : segment.index;
      return index >= 0 && index < value.length ? [[value, index]] : [];
    }
    return [];
  }
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    if (segment.kind === 'wildcard') return Object.keys(object).map((key) => [object, key]);
    if (segment.kind === 'name') return Object.hasOwn(object, segment.name) ? [[object, segment.name]] : [];
  }
  return [];
}

function descendantsOf(value: unknown): unknown[] {
  const found: unknown[] = [];
  const stack = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    const nested = Array.isArray(current) ? current : typeof current === 'object' && current !== null ? Object.values(current) : [];
    for (const child of nested) {
      if (typeof child === 'object' && child !== null) {
        found.push(child);
        stack.push(child);
      }
    }
  }
  return found;
}
