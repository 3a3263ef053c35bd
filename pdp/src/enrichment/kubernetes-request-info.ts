/**
 * kube-apiserver's RequestInfo resolution, re-implemented so policy sees a Kubernetes request the
 * way the apiserver's own authorizer does: verb, API group/version, namespace, resource,
 * subresource and name, from the method, the path and the query.
 *
 * The apiserver resolves the percent-decoded path without cleaning it. A PEP, a proxy or an HTTP
 * library in between may clean or re-encode it differently (resolve `..`, turn `%2F` or `\` into a
 * separator, collapse `//`), so the same bytes could name one object here and another upstream.
 * Such paths are never resolved: they come back as a resource request with verb "" and nothing
 * else filled in, which no policy rule allows.
 */

export interface KubernetesRequestInfo {
  is_resource_request: boolean;
  /** get list watch create update patch delete deletecollection (proxy for the deprecated prefix); the lower-case method for non-resource paths; "" = cannot be told, deny. */
  verb: string;
  api_prefix: string;
  api_group: string;
  api_version: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  parts: string[];
}

export type KubernetesQuery = string | Record<string, string | string[]>;

const API_PREFIXES = new Set(['api', 'apis']);
const GROUPLESS_API_PREFIXES = new Set(['api']);
/** Deprecated verbs carried as the first path segment after the version: /api/v1/watch/pods. */
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const SPECIAL_VERBS_WITHOUT_SUBRESOURCES = new Set(['proxy']);
/** /api/v1/namespaces/{name}/{these} address the namespace itself, not a resource inside it. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
/** ListOptions parameters whose value must parse as a base-10 int64, or decoding fails. */
const INT64_LIST_PARAMETERS = ['limit', 'timeoutSeconds'];

const METHOD_VERBS: Readonly<Record<string, string>> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

export function resolveKubernetesRequest(method: string, path: string, query?: KubernetesQuery): KubernetesRequestInfo {
  // The contract types these, but a request body is only JSON: never throw on what it carries.
  if (typeof method !== 'string' || typeof path !== 'string') return unresolvable();
  if (query !== undefined && typeof query !== 'string' && (typeof query !== 'object' || query === null)) return unresolvable();
  // A query smuggled into the path is still the request's query as the apiserver parses it.
  const questionMark = path.indexOf('?');
  const rawPath = questionMark === -1 ? path : path.slice(0, questionMark);
  const values = mergeQueries(questionMark === -1 ? null : parseRawQuery(path.slice(questionMark + 1)), query);

  const segments = splitUnambiguousPath(rawPath);
  if (segments === null) return unresolvable();
  return resolveSegments(method, segments, values);
}

/** The request's query values as the API server decodes them (a query smuggled into the path included). */
export function kubernetesQueryValues(path: string, query?: KubernetesQuery): Map<string, string[]> {
  if (typeof path !== 'string') return new Map();
  if (query !== undefined && typeof query !== 'string' && (typeof query !== 'object' || query === null)) return new Map();
  const questionMark = path.indexOf('?');
  return mergeQueries(questionMark === -1 ? null : parseRawQuery(path.slice(questionMark + 1)), query);
}

/** The path as the API server reads it ("/" + its decoded segments), or null when it cannot be read unambiguously. */
export function canonicalKubernetesPath(path: string): string | null {
  if (typeof path !== 'string') return null;
  const questionMark = path.indexOf('?');
  const segments = splitUnambiguousPath(questionMark === -1 ? path : path.slice(0, questionMark));
  return segments === null ? null : `/${segments.join('/')}`;
}

function resolveSegments(method: string, segments: string[], query: Map<string, string[]>): KubernetesRequestInfo {
  const info: KubernetesRequestInfo = { ...unresolvable(), is_resource_request: false, verb: method.toLowerCase() };

  let current = segments;
  if (current.length < 3) return info;
  const prefix = current[0] ?? '';
  if (!API_PREFIXES.has(prefix)) return info;
  // Like the apiserver, the prefix stays set on a non-resource answer (/apis/apps/v1).
  info.api_prefix = prefix;
  current = current.slice(1);

  if (!GROUPLESS_API_PREFIXES.has(prefix)) {
    if (current.length < 3) return info;
    info.api_group = current[0] ?? '';
    current = current.slice(1);
  }

  info.is_resource_request = true;
  info.api_version = current[0] ?? '';
  current = current.slice(1);

  const first = current[0] ?? '';
  if (SPECIAL_VERBS.has(first)) {
    // The apiserver rejects /api/v1/watch with nothing after it (500): never resolvable.
    if (current.length < 2) return unresolvable();
    info.verb = first;
    current = current.slice(1);
  } else {
    // Go compares the method as sent: "get" is not GET, and an unknown method has no verb.
    info.verb = METHOD_VERBS[method] ?? '';
  }

  if (current[0] === 'namespaces') {
    if (current.length > 1) {
      info.namespace = current[1] ?? '';
      const next = current[2];
      if (next !== undefined && !NAMESPACE_SUBRESOURCES.has(next)) current = current.slice(2);
    }
  }

  info.parts = current;
  if (current.length >= 3 && !SPECIAL_VERBS_WITHOUT_SUBRESOURCES.has(info.verb)) info.subresource = current[2] ?? '';
  if (current.length >= 2) info.name = current[1] ?? '';
  if (current.length >= 1) info.resource = current[0] ?? '';

  if (info.name === '' && info.verb === 'get') {
    const options = decodeListOptions(query);
    info.verb = options.watch ? 'watch' : 'list';
    if (options.fieldSelectorName !== null && isValidPathSegmentName(options.fieldSelectorName)) {
      info.name = options.fieldSelectorName;
    }
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}

function unresolvable(): KubernetesRequestInfo {
  return {
    is_resource_request: true,
    verb: '',
    api_prefix: '',
    api_group: '',
    api_version: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Path

/**
 * The path's segments as the apiserver splits them (leading and trailing slashes trimmed,
 * percent-decoding applied), or null when any hop could read the path differently.
 */
function splitUnambiguousPath(rawPath: string): string[] | null {
  if (rawPath === '') return [];
  if (!rawPath.startsWith('/')) return null;
  // "//host/…" reads as an authority to URL parsers.
  if (rawPath.startsWith('//')) return null;
  if (rawPath.includes('\\') || rawPath.includes('#')) return null;

  const trimmed = trimSlashes(rawPath);
  if (trimmed === '') return [];
  const segments: string[] = [];
  for (const rawSegment of trimmed.split('/')) {
    // An empty segment is kept by the apiserver ("" namespace = all namespaces) but dropped by
    // path cleaners: the two readings differ, sometimes towards the broader one.
    if (rawSegment === '') return null;
    const decoded = percentDecode(rawSegment);
    // Bytes that are not UTF-8 name nothing in Kubernetes; Go would keep them raw, we cannot.
    if (decoded === null || !decoded.utf8) return null;
    const segment = decoded.text;
    if (segment === '.' || segment === '..') return null;
    // Decoded separators or delimiters: the apiserver splits on a decoded "/", others do not.
    if (/[/?#\\]/.test(segment)) return null;
    if (/[\u0000-\u001f\u007f]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments;
}

function trimSlashes(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value[start] === '/') start++;
  while (end > start && value[end - 1] === '/') end--;
  return value.slice(start, end);
}

/** Go's unescaping: %XX are bytes, "+" kept; a malformed escape is an error (null). */
function percentDecode(value: string): { text: string; utf8: boolean } | null {
  if (!value.includes('%')) return { text: value, utf8: true };
  const bytes: number[] = [];
  for (let index = 0; index < value.length; ) {
    if (value[index] === '%') {
      const hex = value.slice(index + 1, index + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      bytes.push(Number.parseInt(hex, 16));
      index += 3;
    } else {
      const codePoint = value.codePointAt(index) ?? 0;
      const char = String.fromCodePoint(codePoint);
      bytes.push(...Buffer.from(char, 'utf8'));
      index += char.length;
    }
  }
  const buffer = Buffer.from(bytes);
  const text = buffer.toString('utf8');
  return { text, utf8: Buffer.from(text, 'utf8').equals(buffer) };
}

/** Rejects what the apiserver refuses as a name in a path segment. */
function isValidPathSegmentName(name: string): boolean {
  if (name === '.' || name === '..') return false;
  return !name.includes('/') && !name.includes('%');
}

// ---------------------------------------------------------------------------------------------
// Query

/** Go's url.ParseQuery: "&"-separated, a pair with ";" or a bad escape is dropped, "+" = space. */
function parseRawQuery(raw: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const pair of raw.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const equals = pair.indexOf('=');
    const key = queryUnescape(equals === -1 ? pair : pair.slice(0, equals));
    const value = queryUnescape(equals === -1 ? '' : pair.slice(equals + 1));
    if (key === null || value === null) continue;
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }
  return values;
}

function queryUnescape(value: string): string | null {
  return percentDecode(value.replaceAll('+', ' '))?.text ?? null;
}

function mergeQueries(fromPath: Map<string, string[]> | null, query: KubernetesQuery | undefined): Map<string, string[]> {
  const merged = fromPath ?? new Map<string, string[]>();
  if (query === undefined) return merged;
  const given = typeof query === 'string' ? parseRawQuery(query.startsWith('?') ? query.slice(1) : query) : objectQuery(query);
  for (const [key, list] of given) merged.set(key, [...(merged.get(key) ?? []), ...list]);
  return merged;
}

function objectQuery(query: Record<string, string | string[]>): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const [key, value] of Object.entries(query)) {
    if (typeof value === 'string') values.set(key, [value]);
    else if (Array.isArray(value)) values.set(key, value.filter((item): item is string => typeof item === 'string'));
  }
  return values;
}

interface ListOptions {
  watch: boolean;
  /** The name a `metadata.name=` field selector pins the list to, or null. */
  fieldSelectorName: string | null;
}

/**
 * The part of ListOptions decoding that RequestInfo depends on. When decoding fails the apiserver
 * keeps only `watch` and drops the field selector, so a name is taken from it only when the
 * parameters we can check decode. (A bad labelSelector is not checked: the handler refuses that
 * request with 400 anyway, so the narrower name cannot widen what happens.)
 */
function decodeListOptions(query: Map<string, string[]>): ListOptions {
  const watch = goBool(query.get('watch'));
  for (const parameter of INT64_LIST_PARAMETERS) {
    const first = query.get(parameter)?.[0];
    if (first !== undefined && !isGoInt64(first)) return { watch, fieldSelectorName: null };
  }
  const selector = query.get('fieldSelector')?.[0];
  if (selector === undefined) return { watch, fieldSelectorName: null };
  const terms = parseFieldSelector(selector);
  if (terms === null) return { watch, fieldSelectorName: null };
  const exact = terms.find((term) => term.field === 'metadata.name' && term.operator !== '!=');
  return { watch, fieldSelectorName: exact ? exact.value : null };
}

/** Any value but "0" or "false" (any case) is true, including the empty string; absent is false. */
export function goBool(values: string[] | undefined): boolean {
  const first = values?.[0];
  if (first === undefined) return false;
  return first !== '0' && first.toLowerCase() !== 'false';
}

function isGoInt64(value: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(value)) return false;
  const number = BigInt(value);
  return number >= -(2n ** 63n) && number < 2n ** 63n;
}

interface FieldSelectorTerm {
  field: string;
  operator: '!=' | '==' | '=';
  value: string;
}

/**
 * A field selector as the apiserver parses it: terms split on unescaped commas and sorted, each
 * split at its first operator, values unescaped (only \\ \, \= are escapes). Null when invalid.
 */
function parseFieldSelector(selector: string): FieldSelectorTerm[] | null {
  const terms: FieldSelectorTerm[] = [];
  for (const part of splitSelectorTerms(selector).sort(compareBytes)) {
    if (part === '') continue;
    const term = splitSelectorTerm(part);
    if (term === null) return null;
    const value = unescapeSelectorValue(term.value);
    if (value === null) return null;
    terms.push({ ...term, value });
  }
  return terms;
}

function splitSelectorTerms(selector: string): string[] {
  if (selector === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let index = 0; index < selector.length; index++) {
    const char = selector[index];
    if (escaped) escaped = false;
    else if (char === '\\') escaped = true;
    else if (char === ',') {
      terms.push(selector.slice(start, index));
      start = index + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

function splitSelectorTerm(term: string): FieldSelectorTerm | null {
  for (let index = 0; index < term.length; index++) {
    const rest = term.slice(index);
    for (const operator of ['!=', '==', '='] as const) {
      if (rest.startsWith(operator)) {
        return { field: term.slice(0, index), operator, value: term.slice(index + operator.length) };
      }
    }
  }
  return null;
}

function unescapeSelectorValue(value: string): string | null {
  let result = '';
  let escaped = false;
  for (const char of value) {
    if (escaped) {
      if (char !== '\\' && char !== ',' && char !== '=') return null;
      result += char;
      escaped = false;
    } else if (char === '\\') escaped = true;
    else if (char === ',' || char === '=') return null;
    else result += char;
  }
  return escaped ? null : result;
}

/** Go sorts strings by bytes; compare UTF-8 so non-ASCII terms order the same way. */
function compareBytes(left: string, right: string): number {
  return Buffer.compare(Buffer.from(left, 'utf8'), Buffer.from(right, 'utf8'));
}
