/**
 * Bash's $'…' quoting: backslash escapes are decoded when the word is read, so $'\x72\x6d' is
 * the literal text "rm" and must be seen as such.
 */

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\u0007',
  b: '\b',
  e: '\u001b',
  E: '\u001b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

/** Decodes the text between $' and '. Like bash, a NUL ends the string. */
export function decodeAnsiCQuoted(body: string): string {
  let result = '';
  let index = 0;
  while (index < body.length) {
    const char = body[index] ?? '';
    if (char !== '\\' || index + 1 >= body.length) {
      result += char;
      index++;
      continue;
    }
    const escape = body[index + 1] ?? '';
    index += 2;
    const simple = SIMPLE_ESCAPES[escape];
    if (simple !== undefined) {
      result += simple;
    } else if (escape >= '0' && escape <= '7') {
      const digits = readWhile(body, index - 1, 3, /[0-7]/);
      index += digits.length - 1;
      const code = Number.parseInt(digits, 8) & 0xff;
      if (code === 0) return result;
      result += String.fromCharCode(code);
    } else if (escape === 'x' || escape === 'u' || escape === 'U') {
      const digits = readWhile(body, index, escape === 'x' ? 2 : escape === 'u' ? 4 : 8, /[0-9a-fA-F]/);
      if (digits === '') {
        result += `\\${escape}`;
        continue;
      }
      index += digits.length;
      const code = Number.parseInt(digits, 16);
      if (code === 0) return result;
      result += code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
    } else if (escape === 'c' && index < body.length) {
      // \cX: the control character of X.
      const control = (body.charCodeAt(index) & 0x1f);
      index++;
      if (control === 0) return result;
      result += String.fromCharCode(control);
    } else {
      // Unknown escapes keep their backslash.
      result += `\\${escape}`;
    }
  }
  return result;
}

function readWhile(text: string, start: number, max: number, pattern: RegExp): string {
  let end = start;
  while (end < text.length && end - start < max && pattern.test(text[end] ?? '')) end++;
  return text.slice(start, end);
}
