const MAX_CHARS = 1000;
// Three base64url segments, the first a JSON header: a JWT, whoever put it there.
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
// NUL ends a C string in most wire protocols; other controls garble terminals.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/**
 * Makes the PEP's own text fit to show a client: no tokens, no control characters, bounded length.
 * Applied to everything a refusal or an approval notice carries, whoever wrote it. It is not run
 * through the value detectors: what it holds comes from the PDP and policy (reason codes and
 * messages, decision and approval ids, URLs, times), never from the database, and an id must
 * reach a person intact (a UUID's digits are not a card number).
 */
export function clientSafeText(text: string): string {
  const cleaned = text.replace(JWT, '<token>').replace(BEARER, '$1 <token>').replace(CONTROL, ' ');
  return cleaned.length <= MAX_CHARS ? cleaned : `${cleaned.slice(0, MAX_CHARS - 1)}…`;
}
