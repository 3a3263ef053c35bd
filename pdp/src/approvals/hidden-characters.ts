// Characters a reader cannot see, or that change how the text around them looks: controls,
// zero-width and invisible formatting characters, bidirectional controls, look-alike line breaks
// and spaces. PostgreSQL reads every one of them (as whitespace, a line end, or part of a name),
// so an approver must see each of them, by name. The web console (pdp/console/js/hidden-characters.js)
// keeps the same list; test/console checks the two agree.

/** Every hidden character, one match each (astral tag characters included). */
export const HIDDEN_CHARACTER =
  /[\u0000-\u0008\u000B-\u001F\u007F-\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180E\u2000-\u200F\u2028-\u202F\u205F-\u2064\u2066-\u206F\u3000\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uD800-\uDFFF]|[\u{E0000}-\u{E007F}]/gu;

const NAMES: Readonly<Record<number, string>> = {
  0x00: 'NUL', 0x07: 'BEL', 0x08: 'BS', 0x0b: 'VT', 0x0c: 'FF', 0x0d: 'CR', 0x1b: 'ESC', 0x7f: 'DEL',
  0x85: 'NEL', 0xa0: 'NBSP', 0xad: 'SHY', 0x061c: 'ALM', 0x200b: 'ZWSP', 0x200c: 'ZWNJ', 0x200d: 'ZWJ',
  0x200e: 'LRM', 0x200f: 'RLM', 0x2028: 'LS', 0x2029: 'PS', 0x202a: 'LRE', 0x202b: 'RLE', 0x202c: 'PDF',
  0x202d: 'LRO', 0x202e: 'RLO', 0x2060: 'WJ', 0x2066: 'LRI', 0x2067: 'RLI', 0x2068: 'FSI', 0x2069: 'PDI',
  0xfeff: 'BOM',
};

/** The short name shown in a badge: CR, ZWSP, RLO … or U+XXXX. */
export function hiddenCharacterName(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  return NAMES[code] ?? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

export interface HiddenCharacterCount {
  readonly name: string;
  readonly count: number;
}

/** The hidden characters of `text`, by name, in order of first appearance. */
export function hiddenCharactersIn(text: string): HiddenCharacterCount[] {
  const counts = new Map<string, number>();
  for (const match of text.matchAll(HIDDEN_CHARACTER)) {
    const name = hiddenCharacterName(match[0]);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, count]) => ({ name, count }));
}
