/** Texts parsed lately, and their instants: the same few expiry times are checked for every statement. */
const recent = new Map<string, number>();
const MAX_REMEMBERED = 64;

/**
 * Date.parse of an RFC 3339 time, remembered: a session's reused allow names the same token and
 * reuse expiry for each of its statements, and parsing them again per statement was a visible
 * part of the PEP's CPU. The result is exactly Date.parse's (NaN included).
 */
export function instantOf(text: string): number {
  const known = recent.get(text);
  if (known !== undefined) return known;
  const instant = Date.parse(text);
  if (recent.size >= MAX_REMEMBERED) recent.clear();
  recent.set(text, instant);
  return instant;
}
