/**
 * SASLprep (RFC 4013) as PostgreSQL applies it to SCRAM passwords: non-ASCII spaces become
 * spaces, characters "mapped to nothing" go, then NFKC. Where the result holds a prohibited
 * character PostgreSQL uses the raw password instead, and so does this.
 */
export function saslPrep(password: string): string {
  // ASCII is left as it is either way (its control characters are prohibited → raw).
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  const mapped = password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
  return PROHIBITED.test(mapped) ? password : mapped;
}

// RFC 3454 C.1.2
const NON_ASCII_SPACE = /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/gu;
// RFC 3454 B.1
// biome-ignore lint/suspicious/noMisleadingCharacterClass: the RFC's table lists single code points (combining marks and ZWJ included), each matched alone.
const MAPPED_TO_NOTHING = /[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]/gu;
// RFC 3454 C.2 (controls), C.3 (private use), C.4 (non-characters), C.5 (surrogates), C.6–C.9
const PROHIBITED =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: the RFC's table lists single code points (ZWJ included), each matched alone.
  /[\x00-\x1f\x7f-\x9f\u06dd\u070f\u180e\u200c\u200d\u2028\u2029\u2060-\u2063\u206a-\u206f\ufeff\ufff9-\ufffd\ue000-\uf8ff\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff\u0340\u0341\u200e\u200f\u202a-\u202e\u2ff0-\u2ffb]|[\u{1d173}-\u{1d17a}\u{e0001}\u{e0020}-\u{e007f}\u{f0000}-\u{ffffd}\u{100000}-\u{10fffd}\u{1fffe}\u{1ffff}]/u;
