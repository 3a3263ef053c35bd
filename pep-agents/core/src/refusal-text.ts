import { ValueScrubber } from './masking/value-scrubber.ts';

const MAX_CHARS = 1000;
// Three base64url segments, the first a JSON header: a JWT, whoever put it there.
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
// NUL ends a C string in most wire protocols; other controls garble terminals.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

const scrubber = new ValueScrubber();

/**
 * Makes text fit to show a client: no tokens, no personal data found by value, no control
 * characters, bounded length. Applied to everything a refusal carries, whoever wrote it.
 */
export function clientSafeText(text: string): string {
  const cleaned = scrubber.scrubText(text.replace(JWT, '<token>').replace(BEARER, '$1 <token>')).text.replace(CONTROL, ' ');
  return cleaned.length <= MAX_CHARS ? cleaned : `${cleaned.slice(0, MAX_CHARS - 1)}…`;
}
