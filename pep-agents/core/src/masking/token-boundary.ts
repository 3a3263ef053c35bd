/**
 * Whether a match stands as a token of its own. A value written inside a longer token is not
 * that value: the digits of a UUID (`…-83a1-234567890123`), a hex digest, an order id
 * (`ORD-4111111111111111`), a version or a decimal. A letter, a digit or `_` next to the match,
 * or a `-` or `.` that joins it to one, makes it part of a longer token.
 */
export function standsAlone(text: string, start: number, end: number): boolean {
  return startsToken(text, start) && endsToken(text, end);
}

function startsToken(text: string, start: number): boolean {
  if (start === 0) return true;
  const before = text.charCodeAt(start - 1);
  if (isWordChar(before)) return false;
  return !(isJoiner(before) && start >= 2 && isWordChar(text.charCodeAt(start - 2)));
}

function endsToken(text: string, end: number): boolean {
  if (end >= text.length) return true;
  const after = text.charCodeAt(end);
  if (isWordChar(after)) return false;
  return !(isJoiner(after) && end + 1 < text.length && isWordChar(text.charCodeAt(end + 1)));
}

function isJoiner(code: number): boolean {
  return code === 0x2d || code === 0x2e; // - .
}

export function isWordChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f;
}
