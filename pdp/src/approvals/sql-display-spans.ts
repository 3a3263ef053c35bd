// Where comments, string constants, quoted identifiers, keywords and parameters begin and end in
// a SQL text, as PostgreSQL's own lexer has them (libpg-query's scanner): `--` comments end at
// \n or \r, /* */ comments nest, E'' strings take backslash escapes, dollar quotes end at their
// own tag. The consoles colour text by these spans and lex nothing themselves, so what an
// approver reads as a comment is what the server skips. Anything between spans is code.
import { scanSync } from 'libpg-query';
import { AnalysisCache } from '../enrichment/analysis-cache.ts';

export type SqlSpanKind = 'comment' | 'string' | 'identifier' | 'keyword' | 'parameter';

/** [start, end, kind]: UTF-16 offsets into the text, as JavaScript (and the consoles) index it. */
export type SqlSpan = [number, number, SqlSpanKind];

/**
 * Spans kept for repeated texts: an agent retrying a held command asks for the same approval
 * again and again, and the lexer pass costs tens of microseconds of the decision's thread. Kept
 * spans are frozen (a caller copies before changing them); a text the scanner refuses is not kept.
 */
const recentSpans = new AnalysisCache<readonly SqlSpan[]>(1024, 4096);

/**
 * The spans of `sql`, or undefined when the scanner refuses it (an unterminated literal or
 * comment): the consoles then show the text uncoloured. Needs libpg-query's module loaded
 * (the SQL analyzer loads it at start-up).
 */
export function sqlDisplaySpans(sql: string): readonly SqlSpan[] | undefined {
  const kept = recentSpans.get(sql);
  if (kept !== undefined) return kept;
  const spans = scanSpans(sql);
  return spans === undefined ? undefined : recentSpans.remember(sql, spans);
}

function scanSpans(sql: string): SqlSpan[] | undefined {
  let tokens: { start: number; end: number; tokenName: string; keywordKind: number }[];
  try {
    tokens = scanSync(scannable(sql)).tokens;
  } catch {
    return undefined;
  }
  const toIndex = byteToIndex(sql);
  const spans: SqlSpan[] = [];
  for (const token of tokens) {
    const start = toIndex(token.start);
    const end = toIndex(token.end);
    const kind = spanKind(token.tokenName, token.keywordKind, sql.slice(start, end));
    if (kind !== undefined && end > start) spans.push([start, end, kind]);
  }
  return spans;
}

/**
 * The scanner's JSON output breaks on raw control characters inside a token, so each is swapped
 * for a one-byte stand-in that lexes the same wherever it can stand in a text PostgreSQL parsed:
 * \v and \f are whitespace (a space), the rest can only be content of a comment, literal or
 * quoted name (anywhere else they are a syntax error), where `#` is as inert — it can close no
 * comment, quote or dollar tag. Offsets are unchanged.
 */
function scannable(sql: string): string {
  return sql.replace(/[\v\f]/g, ' ').replace(/[\u0000-\u0008\u000e-\u001f]/g, '#');
}

function spanKind(tokenName: string, keywordKind: number, text: string): SqlSpanKind | undefined {
  switch (tokenName) {
    case 'SQL_COMMENT':
    case 'C_COMMENT':
      return 'comment';
    case 'SCONST':
    case 'USCONST':
    case 'BCONST':
    case 'XCONST':
      return 'string';
    case 'UIDENT':
      return 'identifier';
    case 'IDENT':
      return text.startsWith('"') ? 'identifier' : undefined;
    case 'PARAM':
      return 'parameter';
  }
  // The scanner's name table lacks some literal tokens (U&'…', B'…', X'…'): told by their text.
  if (/^[uU]&'|^[bBxXnN]'/.test(text)) return 'string';
  if (/^[uU]&"/.test(text)) return 'identifier';
  return keywordKind > 0 ? 'keyword' : undefined;
}

/** Maps the scanner's UTF-8 byte offsets (increasing) to UTF-16 indices. */
function byteToIndex(text: string): (byteOffset: number) => number {
  let index = 0;
  let bytes = 0;
  return (byteOffset) => {
    if (byteOffset < bytes) {
      index = 0;
      bytes = 0;
    }
    while (bytes < byteOffset && index < text.length) {
      const code = text.codePointAt(index)!;
      bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
      index += code >= 0x10000 ? 2 : 1;
    }
    return index;
  };
}
