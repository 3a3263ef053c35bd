/**
 * Replaces credentials that sit inside a text, whatever member holds it (a tool's `note`
 * argument, a command line, an error message): JWTs, `Bearer` tokens, PEM private key blocks and
 * the password of a `scheme://user:password@host` address. Member names say nothing about these,
 * so the last-line redaction reads every string for them.
 */

const REDACTED = '[REDACTED]';

/** A PEM private key block, or one that never ends (cut text): everything from its BEGIN line on. */
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|[\s\S]*$)/g;

/** `Bearer <token>` (RFC 6750's token68 characters). */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi;

/** Three base64url segments (the signature may be empty): a JWT when the first decodes to a JSON object. */
const JWT_CANDIDATE = /\bey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/** The password of a URL's user information (`postgres://app:s3cret@db`). */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:@/?#]*:)[^\s@/?#]+@/gi;

export function redactCredentialSpans(text: string): string {
  // Cheap tests first: most strings hold none of these.
  let result = text;
  if (result.includes('PRIVATE KEY-----')) result = result.replace(PRIVATE_KEY_BLOCK, `${REDACTED} private key`);
  if (/bearer/i.test(result)) result = result.replace(BEARER, `$1${REDACTED}`);
  if (result.includes('ey') && result.includes('.')) result = result.replace(JWT_CANDIDATE, (candidate) => (hasJsonHeader(candidate) ? REDACTED : candidate));
  if (result.includes('://')) result = result.replace(URL_PASSWORD, `$1${REDACTED}@`);
  return result;
}

function hasJsonHeader(candidate: string): boolean {
  const header = candidate.slice(0, candidate.indexOf('.'));
  try {
    const decoded: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    return typeof decoded === 'object' && decoded !== null && !Array.isArray(decoded);
  } catch {
    return false;
  }
}

/** A JSON value with the credentials inside each of its texts replaced (objects and arrays copied, the rest as is). */
export function withoutCredentialSpans<T>(value: T): T {
  if (typeof value === 'string') return redactCredentialSpans(value) as T;
  if (Array.isArray(value)) return value.map((item) => withoutCredentialSpans(item)) as T;
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(value)) {
      const redacted = withoutCredentialSpans(member);
      if (name === '__proto__') Object.defineProperty(copy, name, { value: redacted, enumerable: true, writable: true, configurable: true });
      else copy[name] = redacted;
    }
    return copy as T;
  }
  return value;
}
