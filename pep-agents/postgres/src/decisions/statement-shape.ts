/**
 * The shape of a SQL text: the text itself with every numeric literal and every plain quoted
 * string blanked, so `… WHERE aid = 17` and `… WHERE aid = 4242` share one shape. A reuse grant
 * from the PDP lets one allow stand for every text of its shape (see DecisionReuseCache).
 *
 * Safety rests on one property: two texts of the same shape tokenize the same way for PostgreSQL,
 * differing only inside literal values. So the scanner follows PostgreSQL's lexer where token
 * boundaries are decided (comments, quoted identifiers, dollar quotes, strings), copies everything
 * else verbatim, and gives up (`undefined`: ask the PDP) wherever a boundary depends on something
 * it does not know for certain: a backslash in a string (its meaning depends on
 * standard_conforming_strings and on E''), an unterminated token, a NUL, a number running into a
 * word. Giving up only costs a decision; guessing wrong could let a different statement run.
 */

/** Placeholders that cannot occur in a shaped text: a text holding a NUL has no shape. */
const NUMBER_PLACEHOLDER = '\u0000n';
const STRING_PLACEHOLDER = '\u0000s';
/** A longer text is not worth shaping: it is rarely repeated, and the scan is linear anyway. */
const MAX_SHAPED_CHARS = 16 * 1024;

export function statementShape(sql: string): string | undefined {
  const literals = literalSpans(sql);
  if (!literals) return undefined;
  const parts: string[] = [];
  let copiedUpTo = 0;
  for (const literal of literals) {
    parts.push(sql.slice(copiedUpTo, literal.start), literal.kind === 'number' ? NUMBER_PLACEHOLDER : STRING_PLACEHOLDER);
    copiedUpTo = literal.end;
  }
  parts.push(sql.slice(copiedUpTo));
  return parts.join('');
}

/** A literal value in a SQL text: a number, or the body of a quoted string (between its quotes). */
export interface LiteralSpan {
  /** `bit-string`: the body of B'…' or X'…', which holds no doubled quote. */
  readonly kind: 'number' | 'string' | 'bit-string';
  readonly start: number;
  readonly end: number;
}

/** Where the literal values of a text are, in order; undefined when the text has no certain shape. */
export function literalSpans(sql: string): LiteralSpan[] | undefined {
  if (sql.length > MAX_SHAPED_CHARS || sql.includes('\u0000')) return undefined;
  const literals: LiteralSpan[] = [];
  // Where the last identifier began: B'…' and X'…' end at their first quote (no '' inside).
  let identifierStart = -1;
  let i = 0;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    const next = sql.charCodeAt(i + 1);
    if (c === DASH && next === DASH) {
      i = lineCommentEnd(sql, i);
    } else if (c === SLASH && next === STAR) {
      const end = blockCommentEnd(sql, i);
      if (end < 0) return undefined;
      i = end;
    } else if (c === QUOTE) {
      const bits = isBitStringPrefix(sql, identifierStart, i);
      const end = bits ? bitStringEnd(sql, i) : plainStringEnd(sql, i);
      if (end < 0) return undefined;
      literals.push({ kind: bits ? 'bit-string' : 'string', start: i + 1, end: end - 1 });
      i = end;
    } else if (c === DOUBLE_QUOTE) {
      const end = quotedIdentifierEnd(sql, i);
      if (end < 0) return undefined;
      i = end;
    } else if (c === DOLLAR) {
      if (isDigit(next)) {
        i = digitsEnd(sql, i + 1); // $1: a parameter, kept as it is
      } else {
        const end = dollarQuotedEnd(sql, i);
        if (end === undefined) return undefined;
        i = end; // a dollar-quoted body is kept verbatim: it may be code (DO, CREATE FUNCTION)
      }
    } else if (isIdentifierStart(c)) {
      identifierStart = i;
      i = identifierEnd(sql, i);
    } else if (isDigit(c) || (c === DOT && isDigit(next))) {
      const end = numberEnd(sql, i);
      if (end < sql.length && isIdentifierPart(sql.charCodeAt(end))) return undefined;
      literals.push({ kind: 'number', start: i, end });
      i = end;
    } else {
      i += 1;
    }
  }
  return literals;
}

const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const DOLLAR = 0x24;
const DOT = 0x2e;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** PostgreSQL's ident_start: a letter, underscore or any non-ASCII character. */
function isIdentifierStart(c: number): boolean {
  return isLetter(c) || c === UNDERSCORE || c >= 0x80;
}

/** PostgreSQL's ident_cont: ident_start, a digit or a dollar sign. */
function isIdentifierPart(c: number): boolean {
  return isIdentifierStart(c) || isDigit(c) || c === DOLLAR;
}

function identifierEnd(sql: string, start: number): number {
  let i = start + 1;
  while (i < sql.length && isIdentifierPart(sql.charCodeAt(i))) i += 1;
  return i;
}

function digitsEnd(sql: string, start: number): number {
  let i = start;
  while (i < sql.length && isDigit(sql.charCodeAt(i))) i += 1;
  return i;
}

function lineCommentEnd(sql: string, start: number): number {
  let i = start + 2;
  while (i < sql.length && sql[i] !== '\n' && sql[i] !== '\r') i += 1;
  return i;
}

/** Block comments nest in PostgreSQL; -1 when one is left open. */
function blockCommentEnd(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql.charCodeAt(i) === SLASH && sql.charCodeAt(i + 1) === STAR) {
      depth += 1;
      i += 2;
    } else if (sql.charCodeAt(i) === STAR && sql.charCodeAt(i + 1) === SLASH) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return -1;
}

/** `'…'` with `''` for a quote inside; -1 when unterminated or when a backslash makes the end uncertain. */
function plainStringEnd(sql: string, start: number): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (c === BACKSLASH) return -1;
    if (c === QUOTE) {
      if (sql.charCodeAt(i + 1) === QUOTE) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return -1;
}

/** `B'…'` or `X'…'`: the quote follows a one-letter identifier b or x directly. */
function isBitStringPrefix(sql: string, identifierStart: number, quote: number): boolean {
  return identifierStart === quote - 1 && /[bBxX]/.test(sql[identifierStart]!);
}

/**
 * A bit string has no doubled quote: it ends at the first one. -1 when unterminated or when
 * another quote follows (left to the PDP).
 */
function bitStringEnd(sql: string, start: number): number {
  const close = sql.indexOf("'", start + 1);
  if (close < 0) return -1;
  // A quote after nothing but white space and -- comments may continue the bit string (after a
  // newline) with the same no-doubled-quote rule: not worth following.
  let i = close + 1;
  while (i < sql.length) {
    if (/\s/.test(sql[i]!)) i += 1;
    else if (sql.charCodeAt(i) === DASH && sql.charCodeAt(i + 1) === DASH) i = lineCommentEnd(sql, i);
    else break;
  }
  return sql.charCodeAt(i) === QUOTE ? -1 : close + 1;
}

function quotedIdentifierEnd(sql: string, start: number): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql.charCodeAt(i) === DOUBLE_QUOTE) {
      if (sql.charCodeAt(i + 1) === DOUBLE_QUOTE) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return -1;
}

/**
 * `$tag$…$tag$` (the tag may be empty): the index after the closing delimiter, or `undefined` when
 * the opening is one but the body never closes. A lone `$` that opens nothing is one character.
 */
function dollarQuotedEnd(sql: string, start: number): number | undefined {
  let i = start + 1;
  if (i < sql.length && isIdentifierStart(sql.charCodeAt(i))) {
    i += 1;
    while (i < sql.length && isIdentifierPart(sql.charCodeAt(i)) && sql.charCodeAt(i) !== DOLLAR) i += 1;
  }
  if (sql.charCodeAt(i) !== DOLLAR) return start + 1;
  const delimiter = sql.slice(start, i + 1);
  const close = sql.indexOf(delimiter, i + 1);
  return close < 0 ? undefined : close + delimiter.length;
}

/**
 * A decimal with an optional fraction and exponent. Hex, octal and binary integers and `_`
 * separators are left alone on purpose: before PostgreSQL 16 `0x1F` and `1_000` lex as a number
 * followed by a column alias, so the word after the number ends the shape (see the caller).
 */
function numberEnd(sql: string, start: number): number {
  let i = digitsEnd(sql, start);
  if (sql.charCodeAt(i) === DOT && sql.charCodeAt(i + 1) !== DOT) i = digitsEnd(sql, i + 1);
  const e = sql.charCodeAt(i);
  if (e === 0x45 || e === 0x65) {
    let j = i + 1;
    if (sql[j] === '+' || sql[j] === '-') j += 1;
    if (isDigit(sql.charCodeAt(j))) i = digitsEnd(sql, j);
  }
  return i;
}
