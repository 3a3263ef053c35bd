import type { JsonObject } from '../json-fields.ts';
import { redactCredentialSpans } from './credential-spans.ts';

/**
 * Replaces the secrets of a SQL text (`ALTER ROLE … PASSWORD '…'`). The audit trail is handed
 * one (enrichment's, which knows SQL) rather than importing it: audit never reaches into the
 * decision path.
 */
export type SqlTextRedactor = (sql: string) => string;

/**
 * Member names that hold credentials. Nothing Portcullis builds today carries one (the subject
 * token is never put in a body, credential headers are redacted at enrichment); this is the
 * last line, so a future field or a Data API input holding a token still cannot reach the trail.
 * Compared lower case with "-" read as "_".
 */
const CREDENTIAL_NAMES: ReadonlySet<string> = new Set([
  'subject_token', 'access_token', 'refresh_token', 'id_token', 'token',
  'authorization', 'proxy_authorization', 'cookie', 'set_cookie',
  'password', 'passwd', 'client_secret', 'api_key', 'x_api_key', 'x_auth_token', 'private_key',
]);

// Member names repeat in every record: each is judged once (bounded, so odd input cannot grow it).
const judgedNames = new Map<string, boolean>();
const MAX_JUDGED_NAMES = 4096;

export function isCredentialName(name: string): boolean {
  const known = judgedNames.get(name);
  if (known !== undefined) return known;
  const credential = CREDENTIAL_NAMES.has(name.toLowerCase().replaceAll('-', '_'));
  if (judgedNames.size < MAX_JUDGED_NAMES) judgedNames.set(name, credential);
  return credential;
}

export interface RedactedCopy {
  readonly value: JsonObject;
  /** Paths of the members removed (or, for a SQL text, redacted), e.g. `action.headers.authorization`: their presence still shows. */
  readonly redacted: string[];
}

/**
 * A deep copy of `body` as plain JSON (what `JSON.parse(JSON.stringify(body))` would give) without
 * any member whose name is a credential name, with the secrets of any `sql` text replaced, and
 * with the credentials inside any text replaced (credential-spans.ts). Plain JSON, so the record a producer hashes is
 * the record a verifier reads back; a copy, so later changes to `body` cannot alter the record.
 */
export function redactCredentials(body: JsonObject, redactSqlText: SqlTextRedactor): RedactedCopy {
  const redacted: string[] = [];
  const value = copy(body, '', { trail: [], redacted, ancestors: new Set(), redactSqlText }) as JsonObject;
  return { value, redacted };
}

/** The walk's state: `trail` is where it is (member names and array indexes), a path only spelled out when needed. */
interface Walk {
  readonly trail: Array<string | number>;
  readonly redacted: string[];
  readonly ancestors: Set<object>;
  readonly redactSqlText: SqlTextRedactor;
}

/** `action.headers.authorization`, `args[2].note`: the trail as a path. */
function pathOf(trail: ReadonlyArray<string | number>): string {
  let path = '';
  for (const segment of trail) path += typeof segment === 'number' ? `[${segment}]` : path === '' ? segment : `.${segment}`;
  return path;
}

function copy(input: unknown, key: string, walk: Walk): unknown {
  let value = input;
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  // A SQL text is analysed (and its secrets redacted) before it reaches a record; a text that
  // came some other way (the Data API, a future field) is redacted here: the last line.
  // Any text may hold a token, a key or a URL's password whatever its member is called: those spans are replaced.
  if (typeof value === 'string') {
    const text = redactCredentialSpans(key === 'sql' ? walk.redactSqlText(value) : value);
    if (text !== value) walk.redacted.push(pathOf(walk.trail));
    return text;
  }
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') throw new TypeError(`audit body member ${pathOf(walk.trail) || '(root)'} is a BigInt, which JSON cannot hold`);
  const object = value as object;
  if (object instanceof String || object instanceof Number || object instanceof Boolean) return copy(object.valueOf(), key, walk);
  const { trail, ancestors } = walk;
  if (ancestors.has(object)) throw new TypeError(`audit body member ${pathOf(trail) || '(root)'} contains a cycle`);
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      const items = new Array<unknown>(object.length);
      for (let index = 0; index < object.length; index += 1) {
        trail.push(index);
        items[index] = copy(object[index], String(index), walk) ?? null;
        trail.pop();
      }
      return items;
    }
    const result: JsonObject = {};
    for (const name of Object.keys(object)) {
      const member = (object as Record<string, unknown>)[name];
      // No finally for the trail: a throw ends the whole walk.
      trail.push(name);
      if (isCredentialName(name)) {
        walk.redacted.push(pathOf(trail));
        trail.pop();
        continue;
      }
      const copied = copy(member, name, walk);
      trail.pop();
      if (copied === undefined) continue;
      // defineProperty: a member named "__proto__" stays data instead of replacing the prototype.
      if (name === '__proto__') Object.defineProperty(result, name, { value: copied, enumerable: true, writable: true, configurable: true });
      else result[name] = copied;
    }
    return result;
  } finally {
    ancestors.delete(object);
  }
}
