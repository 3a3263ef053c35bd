import { redactSqlLiterals } from './sql-literal-redaction.ts';

/** What stands for a value that may be a secret. */
export const REDACTED = '[redacted]';

/**
 * The words of an argument name that say its value is a credential (`password`, `api_key`,
 * `accessToken`, `X-Auth-Token`, `client_secret` …): the whole value is redacted.
 */
const SECRET_WORDS: ReadonlySet<string> = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'key', 'apikey', 'authorization', 'auth', 'bearer',
  'credential', 'credentials', 'cookie', 'privatekey', 'signature', 'otp', 'pin',
]);

/** The words of an argument name whose string value is SQL: its literals are redacted. */
const SQL_WORDS: ReadonlySet<string> = new Set(['sql', 'query', 'statement', 'stmt']);

/** Secrets by their look, wherever they sit in a text: each found span is replaced. */
const SECRET_SHAPES: readonly RegExp[] = [
  // PEM private keys, whole.
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  // JSON Web Tokens (and JWS/JWE): base64url header starting {" then one or more parts.
  /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){0,3}/g,
];

/** Secrets after what names them: `Bearer …`, `password=…`, `user:…@host` in a URL. */
const NAMED_SECRETS: readonly RegExp[] = [
  /(\b(?:Bearer|Basic|Token)\s+)([A-Za-z0-9._~+/=-]{8,})/gi,
  /(\b[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|auth)["']?\s*[=:]\s*["']?)([^\s"'&;,]+)/gi,
  /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)([^@\s/]+)(?=@)/gi,
];

/**
 * Arguments as they may be recorded: values under credential names redacted whole, SQL
 * arguments with their string literals redacted, and in every other string what looks like a
 * secret (bearer tokens, JWTs, private keys, `password=…`, URL passwords) replaced. Names, numbers
 * and the shape of the arguments stay, so the record still says what was asked.
 */
export function redactArguments(value: unknown, name?: string): unknown {
  if (name !== undefined) {
    const words = nameWords(name);
    if (words.some((word) => SECRET_WORDS.has(word))) return REDACTED;
    if (typeof value === 'string' && words.some((word) => SQL_WORDS.has(word))) return redactSecretShapes(redactSqlLiterals(value));
  }
  if (typeof value === 'string') return redactSecretShapes(value);
  if (Array.isArray(value)) return value.map((item) => redactArguments(item, name));
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    // defineProperty: a member named "__proto__" stays a member instead of replacing the prototype.
    Object.defineProperty(copy, key, { value: redactArguments(inner, key), enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/** A text with every span that looks like a secret replaced. */
export function redactSecretShapes(text: string): string {
  let out = text;
  for (const shape of SECRET_SHAPES) out = out.replace(shape, REDACTED);
  for (const named of NAMED_SECRETS) out = out.replace(named, (_match, before: string) => `${before}${REDACTED}`);
  return out;
}

/** `accessToken`, `api_key`, `X-Auth-Token` → their lower-case words, and the name joined (`apikey`). */
function nameWords(name: string): string[] {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return [...words, words.join('')];
}
