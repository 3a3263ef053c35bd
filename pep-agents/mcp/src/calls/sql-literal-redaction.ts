/**
 * A SQL text with the contents of every string literal replaced, for the session record of a
 * database tool's call: literals are where values (and secrets: passwords, keys, personal data)
 * sit, while the statement's shape (tables, columns, operators, numbers) stays readable.
 * Read as PostgreSQL's scanner reads it: '…' with '' inside, E'…' with backslash escapes,
 * $tag$…$tag$ bodies, "…" identifiers and comments skipped over. An unterminated literal is
 * redacted to the end of the text.
 */
export const REDACTED_SQL_LITERAL = '[redacted]';

const DOLLAR_TAG = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

export function redactSqlLiterals(sql: string): string {
  let out = '';
  let at = 0;
  while (at < sql.length) {
    const char = sql[at]!;
    const next = sql[at + 1];
    if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', at);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(at, stop);
      at = stop;
    } else if (char === '/' && next === '*') {
      const stop = blockCommentEnd(sql, at);
      out += sql.slice(at, stop);
      at = stop;
    } else if (char === '"') {
      const stop = quotedEnd(sql, at + 1, '"', false);
      out += sql.slice(at, stop);
      at = stop;
    } else if (char === "'") {
      const escapes = /[eE]$/.test(out) && !/[A-Za-z0-9_$][eE]$/.test(out);
      at = quotedEnd(sql, at + 1, "'", escapes);
      out += `'${REDACTED_SQL_LITERAL}'`;
    } else if (char === '$' && !/[A-Za-z0-9_]$/.test(out) && DOLLAR_TAG.test(sql.slice(at, at + 64))) {
      const tag = DOLLAR_TAG.exec(sql.slice(at, at + 64))![0];
      const close = sql.indexOf(tag, at + tag.length);
      at = close === -1 ? sql.length : close + tag.length;
      out += `${tag}${REDACTED_SQL_LITERAL}${tag}`;
    } else {
      out += char;
      at += 1;
    }
  }
  return out;
}

/** Where a quoted run that began before `from` ends (after its closing quote), or the text's end. */
function quotedEnd(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  let at = from;
  while (at < sql.length) {
    const char = sql[at]!;
    if (backslashEscapes && char === '\\') {
      at += 2;
    } else if (char === quote) {
      if (sql[at + 1] === quote) at += 2;
      else return at + 1;
    } else {
      at += 1;
    }
  }
  return sql.length;
}

/** PostgreSQL's block comments nest. */
function blockCommentEnd(sql: string, from: number): number {
  let depth = 0;
  let at = from;
  while (at < sql.length) {
    if (sql.startsWith('/*', at)) {
      depth += 1;
      at += 2;
    } else if (sql.startsWith('*/', at)) {
      depth -= 1;
      at += 2;
      if (depth === 0) return at;
    } else {
      at += 1;
    }
  }
  return sql.length;
}
