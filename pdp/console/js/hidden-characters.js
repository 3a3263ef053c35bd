// Characters a reader cannot see, or that change how the text around them looks: controls,
// zero-width and invisible formatting characters, bidirectional controls, look-alike line breaks
// and spaces. PostgreSQL and shells read every one of them, so each is shown by name. The one
// list: this page loads it, and the PDP and the terminal console import it (its types are in
// hidden-characters.d.ts), so the two consoles and the PDP's findings cannot drift apart.

// By Unicode property, not by a list of code points: every control (but tab and line feed), every
// format character (bidi, zero-width, tags, the Mongolian vowel separator …), every default-
// ignorable (variation selectors, Hangul fillers …), every space but the space, line and
// paragraph separators, private use, lone surrogates, the braille blank — and a combining mark
// that sits on no letter or digit (on a quote it disguises where a literal ends).
export const HIDDEN_CHARACTER =
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\p{Cf}\p{Default_Ignorable_Code_Point}\p{Co}\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u2800\u3000\uD800-\uDFFF]|(?<![\p{L}\p{N}\p{M}])\p{M}/gu;

const NAMES = {
  0x00: 'NUL', 0x07: 'BEL', 0x08: 'BS', 0x0b: 'VT', 0x0c: 'FF', 0x0d: 'CR', 0x1b: 'ESC', 0x7f: 'DEL',
  0x85: 'NEL', 0xa0: 'NBSP', 0xad: 'SHY', 0x061c: 'ALM', 0x200b: 'ZWSP', 0x200c: 'ZWNJ', 0x200d: 'ZWJ',
  0x200e: 'LRM', 0x200f: 'RLM', 0x2028: 'LS', 0x2029: 'PS', 0x202a: 'LRE', 0x202b: 'RLE', 0x202c: 'PDF',
  0x202d: 'LRO', 0x202e: 'RLO', 0x2060: 'WJ', 0x2066: 'LRI', 0x2067: 'RLI', 0x2068: 'FSI', 0x2069: 'PDI',
  0xfeff: 'BOM',
};

/** The short name shown in a badge: CR, ZWSP, RLO … or U+XXXX. */
export function hiddenCharacterName(character) {
  const code = character.codePointAt(0) ?? 0;
  return NAMES[code] ?? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The text with each hidden character written as ⟨NAME⟩, for plain-text places (notices, titles). */
export function namedText(text) {
  return String(text).replace(HIDDEN_CHARACTER, (character) => `⟨${hiddenCharacterName(character)}⟩`);
}

/** Every code point outside printable ASCII (and \n) as an escape: the text, unambiguous. */
export function escapedText(text) {
  let out = '';
  for (const character of text) {
    const code = character.codePointAt(0);
    if (character === '\n') out += '\\n\n';
    else if (character === '\\') out += '\\\\';
    else if (code >= 0x20 && code < 0x7f) out += character;
    else if (character === '\r') out += '\\r';
    else if (character === '\t') out += '\\t';
    else out += code > 0xffff ? `\\u{${code.toString(16).toUpperCase()}}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}
