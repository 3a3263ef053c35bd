// A small PostgreSQL pretty-printer for approvers: keywords upper-cased and a line break before
// each major clause, subqueries indented. It only re-spaces tokens: string literals, quoted
// identifiers, dollar-quoted bodies and comments are kept byte for byte, and upper-casing an
// unquoted word never changes its meaning in PostgreSQL (unquoted names fold to one case).

const KEYWORDS = new Set(`
  all alter analyze and any array as asc authorization begin between both by call cascade case
  cast check collate column comment commit concurrently conflict constraint copy create cross
  current_date current_time current_timestamp current_user database deallocate default delete desc
  distinct do drop else end escape except execute exists explain false fetch filter first for
  foreign from full function grant group having if ilike in index inner insert intersect interval
  into is isnull join key language last lateral leading left like limit local lock matched
  materialized merge natural next not nothing notnull nowait null nulls of offset on only or order
  outer over partition placing prepare primary procedure program recursive references release
  rename reset restrict returning revoke right role rollback row rows savepoint schema select
  session session_user set share show similar skip some stdin stdout table temp temporary then
  ties to trailing transaction trigger true truncate union unique unlogged update user using
  vacuum values verbose view when where window with without work zone
`.trim().split(/\s+/));

/** Keywords written like functions: no space before their parenthesis. */
const FUNCTION_LIKE = new Set(['any', 'some', 'all', 'array', 'cast', 'exists', 'coalesce', 'nullif', 'greatest', 'least', 'row']);

/** Words that start a clause of a query: a line of their own. */
const CLAUSES = new Set(['select', 'from', 'where', 'group', 'order', 'having', 'limit', 'offset', 'fetch', 'union',
  'intersect', 'except', 'values', 'update', 'set', 'delete', 'insert', 'returning', 'window', 'with', 'merge', 'join']);
const JOIN_MODIFIERS = new Set(['left', 'right', 'full', 'inner', 'cross', 'natural', 'outer']);
/** What may open a parenthesised query. */
const QUERY_STARTERS = new Set(['select', 'with', 'values', 'insert', 'update', 'delete', 'merge']);
/** Statements whose words (GRANT SELECT, UPDATE ON …; ALTER ROLE … SET) are not query clauses. */
const UNBROKEN_STATEMENTS = new Set(['grant', 'revoke', 'alter', 'copy', 'comment', 'create']);

const MAX_INDENT_LEVELS = 8;
const INDENT = '  ';

/** Token types of the PDP's lexer spans (pdp/src/approvals/sql-display-spans.ts) as this file names them. */
const SPAN_TYPES = { comment: 'comment', string: 'string', identifier: 'ident', keyword: 'word', parameter: 'param' };

/**
 * Tokens of `sql`: {type, text}. Types: space, line-comment, block-comment, string, ident
 * (quoted), word, number, param, punct, op. With `spans` (PostgreSQL's own lexer, sent by the
 * PDP), comments, literals and quoted names are exactly those spans and only the code between
 * them is split here; without, a local approximation that never throws.
 */
export function tokenizeSql(sql, spans) {
  if (Array.isArray(spans)) return tokenizeWithSpans(sql, spans);
  return tokenizeLocally(sql);
}

function tokenizeWithSpans(sql, spans) {
  const tokens = [];
  let at = 0;
  for (const [start, end, kind] of spans) {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= at && end > start && end <= sql.length)) continue;
    if (start > at) tokens.push(...tokenizeLocally(sql.slice(at, start), true));
    const text = sql.slice(start, end);
    const type = kind === 'comment' ? (text.startsWith('--') ? 'line-comment' : 'block-comment') : SPAN_TYPES[kind] ?? 'word';
    // A literal written right after a word (n'…' is the word n and a literal) must stay glued to it.
    const previous = tokens.at(-1);
    const glued = previous?.type === 'word' && start > 0 && !SPACE.test(sql[start - 1]);
    tokens.push({ type, text, lexed: true, ...(glued ? { glued: true } : {}) });
    at = end;
  }
  if (at < sql.length) tokens.push(...tokenizeLocally(sql.slice(at), true));
  return tokens;
}

/** PostgreSQL's whitespace: nothing else (not U+2028, not NBSP) separates tokens. */
const SPACE = /[ \t\n\r\f\v]/;

/**
 * `codeOnly`: a stretch the server's lexer found no comment, literal or quoted name in, so none
 * is looked for (a `$a$` there is part of a name, not a dollar quote).
 */
function tokenizeLocally(sql, codeOnly = false) {
  const tokens = [];
  let i = 0;
  const n = sql.length;
  const push = (type, end) => {
    tokens.push({ type, text: sql.slice(i, end) });
    i = end;
  };
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (SPACE.test(c)) {
      let j = i + 1;
      while (j < n && SPACE.test(sql[j])) j++;
      push('space', j);
    } else if (codeOnly && (c === "'" || c === '"' || (c === '$' && !/[0-9]/.test(next ?? '')))) {
      // The server's lexer found no literal or quoted name here: a quote or $ is just a character.
      push('op', i + 1);
    } else if (codeOnly && isWordStart(c)) {
      // A word, whatever follows (E'… or U&'… here would have been a literal span).
      let j = i + 1;
      while (j < n && isWordChar(sql[j])) j++;
      push('word', j);
    } else if (c === '-' && next === '-') {
      // PostgreSQL ends a -- comment at \n or \r.
      const match = /[\n\r]/.exec(sql.slice(i));
      push('line-comment', match === null ? n : i + match.index);
    } else if (c === '/' && next === '*') {
      push('block-comment', blockCommentEnd(sql, i));
    } else if (c === "'") {
      push('string', quotedEnd(sql, i + 1, "'", false));
    } else if ((c === 'e' || c === 'E') && next === "'") {
      push('string', quotedEnd(sql, i + 2, "'", true));
    } else if (/[bBxXnN]/.test(c) && next === "'" && !isWordChar(sql[i - 1])) {
      push('string', quotedEnd(sql, i + 2, "'", false));
    } else if ((c === 'u' || c === 'U') && next === '&' && (sql[i + 2] === "'" || sql[i + 2] === '"')) {
      push(sql[i + 2] === "'" ? 'string' : 'ident', quotedEnd(sql, i + 3, sql[i + 2], false));
    } else if (c === '"') {
      push('ident', quotedEnd(sql, i + 1, '"', false));
    } else if (c === '$') {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 66));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        push('string', close === -1 ? n : close + tag[0].length);
      } else {
        const param = /^\$\d+/.exec(sql.slice(i, i + 12));
        push(param ? 'param' : 'op', i + (param ? param[0].length : 1));
      }
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next ?? ''))) {
      // As PostgreSQL reads numbers: 1.5e31.5e3 is 1.5e31 then .5e3.
      const match = /^(?:0[xXoObB][0-9a-fA-F_]+|(?:[0-9][0-9_]*\.(?!\.)[0-9_]*|\.[0-9][0-9_]*|[0-9][0-9_]*)(?:[eE][+-]?[0-9]+)?)/.exec(sql.slice(i, i + 200));
      push('number', i + Math.max(1, match ? match[0].length : 1));
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordChar(sql[j])) j++;
      push('word', j);
    } else if ((c === ':' && next === ':') || (c === '.' && next === '.')) {
      // :: and PostgreSQL's .. (one token, as its lexer reads it).
      push('punct', i + 2);
    } else if ('(),;[].'.includes(c)) {
      push('punct', i + 1);
    } else if ('+-*/<>=~!@#%^&|`?:'.includes(c)) {
      // An operator never contains the start of a comment.
      let j = i + 1;
      while (j < n && '+-*/<>=~!@#%^&|`?'.includes(sql[j]) && !(sql[j] === '-' && sql[j + 1] === '-') && !(sql[j] === '/' && sql[j + 1] === '*')) j++;
      // As PostgreSQL lexes: a trailing + or - belongs to the next operand unless the operator
      // holds one of ~!@#%^&|`? (so `*-4` is `*` then `-4`).
      if (!/[~!@#%^&|`?]/.test(sql.slice(i, j))) while (j > i + 1 && (sql[j - 1] === '+' || sql[j - 1] === '-')) j--;
      push('op', j);
    } else {
      push('op', i + 1);
    }
  }
  return tokens;
}

function isWordStart(c) {
  return c !== undefined && /[A-Za-z_\u0080-\uffff]/.test(c);
}

function isWordChar(c) {
  return c !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
}

function blockCommentEnd(sql, start) {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return sql.length;
}

function quotedEnd(sql, from, quote, backslashEscapes) {
  let i = from;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** `sql` laid out for reading. */
export function formatSql(sql, spans) {
  return formatSqlPieces(sql, spans).map((piece) => piece.text).join('');
}

/** The laid-out text as pieces {text, type}: what is comment, literal, name or code, for colouring. */
export function formatSqlPieces(sql, spans) {
  const tokens = tokenizeSql(sql, spans).filter((token) => token.type !== 'space');
  const pieces = [];
  let out = '';
  const flush = () => {
    if (out !== '') pieces.push({ text: out, type: 'layout' });
    out = '';
  };
  let atLineStart = true;
  /** Open parentheses: 'query' (a subquery, indented), 'expr', or 'open' until its first token tells. */
  const parens = [];
  let statementWord = null;
  let previous = null;
  let beforePrevious = null;

  const depth = () => Math.min(MAX_INDENT_LEVELS, parens.filter((kind) => kind === 'query').length);
  const newline = () => {
    out = out.replace(/ +$/, '');
    out += `\n${INDENT.repeat(depth())}`;
    atLineStart = true;
  };
  const write = (text, spaceBefore, type = 'layout') => {
    if (!atLineStart && spaceBefore) out += ' ';
    flush();
    pieces.push({ text, type });
    atLineStart = false;
  };

  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    const lower = token.type === 'word' ? token.text.toLowerCase() : null;
    const nextWord = wordAt(tokens, index + 1);
    if (parens.at(-1) === 'open') parens[parens.length - 1] = lower !== null && QUERY_STARTERS.has(lower) ? 'query' : 'expr';
    if (statementWord === null && lower !== null) statementWord = lower;

    if (token.type === 'line-comment') {
      write(token.text, true, token.type);
      newline();
      [beforePrevious, previous] = [previous, token];
      continue;
    }
    if (token.type === 'punct' && token.text === ';') {
      // After a -- comment the line break stays: a ; on its line would read as part of it.
      if (previous?.type !== 'line-comment') out = out.replace(/\s+$/, '');
      flush();
      pieces.push({ text: ';', type: 'punct' });
      out = '\n\n';
      atLineStart = true;
      parens.length = 0;
      statementWord = null;
      [beforePrevious, previous] = [previous, token];
      continue;
    }
    if (token.type === 'punct' && token.text === ')') {
      if (parens.pop() === 'query') newline();
      write(')', false, 'punct');
      [beforePrevious, previous] = [previous, token];
      continue;
    }

    if (lower !== null && breaksBefore(lower, nextWord, previous, beforePrevious, statementWord) && (parens.length === 0 || parens.at(-1) === 'query') && !atLineStart) {
      newline();
    }

    const keyword = lower !== null && (KEYWORDS.has(lower) || FUNCTION_LIKE.has(lower));
    // Upper-casing is safe only for plain ASCII words (a folded non-ASCII name could change).
    const text = keyword && /^[A-Za-z_]+$/.test(token.text) ? token.text.toUpperCase() : token.text;
    write(text, spaceBefore(token, previous, beforePrevious, tokens[index + 1]), keyword ? 'keyword' : token.type);
    if (token.type === 'punct' && token.text === '(') parens.push('open');
    [beforePrevious, previous] = [previous, token];
  }
  out = out.replace(/\s+$/, '');
  flush();
  while (pieces.length > 0 && pieces.at(-1).type === 'layout' && /^\s*$/.test(pieces.at(-1).text)) pieces.pop();
  if (pieces.length > 0 && pieces.at(-1).type === 'layout') pieces.at(-1).text = pieces.at(-1).text.replace(/\s+$/, '');
  return pieces;
}

function wordAt(tokens, index) {
  const token = tokens[index];
  return token !== undefined && token.type === 'word' ? token.text.toLowerCase() : null;
}

function breaksBefore(word, nextWord, previous, beforePrevious, statementWord) {
  if (statementWord !== null && UNBROKEN_STATEMENTS.has(statementWord) && statementWord !== word) {
    // CREATE VIEW … AS SELECT and COPY (SELECT …) still lay out the query they hold.
    if (!(statementWord === 'create' && QUERY_STARTERS.has(word) && previousWord(previous) === 'as')) return false;
  }
  const before = previousWord(previous);
  // MERGE reads best as one line per source and per WHEN branch.
  if (statementWord === 'merge') return word === 'using' || (word === 'when' && (nextWord === 'matched' || nextWord === 'not'));
  if (JOIN_MODIFIERS.has(word)) return !JOIN_MODIFIERS.has(before ?? '') && (nextWord === 'join' || JOIN_MODIFIERS.has(nextWord ?? ''));
  if (word === 'on') return nextWord === 'conflict';
  if (word === 'when') return nextWord === 'matched' || nextWord === 'not';
  if (!CLAUSES.has(word)) return false;
  if (word === 'join') return !JOIN_MODIFIERS.has(before ?? '');
  if (word === 'from') return before !== 'delete' && before !== 'distinct';
  if (word === 'update') return before !== 'for' && before !== 'do' && before !== 'no' && before !== 'key';
  if (word === 'set') return !(before === 'update' && previousWord(beforePrevious) === 'do');
  if (word === 'with') return before === null || before === 'as' || previous?.text === '(' || isClauseEnd(previous);
  if (word === 'select' && previous?.text === '(') return true;
  return true;
}

function previousWord(previous) {
  return previous !== null && previous.type === 'word' ? previous.text.toLowerCase() : null;
}

function isClauseEnd(token) {
  return token !== null && token.type === 'punct' && token.text === ')';
}

function spaceBefore(token, previous, beforePrevious, next) {
  if (previous === null) return false;
  const text = token.text;
  if (token.glued === true) return false;
  // A number beside a dot would lex as one number (7 .5 → 7.5): the space stays there.
  if (text === '.' && previous.type === 'number') return true;
  if (previous.text === '.' && token.type === 'number') return true;
  // Two dots apart are two tokens; together they would be PostgreSQL's .. token.
  if (text.startsWith('.') && previous.text.endsWith('.')) return true;
  if (token.type === 'punct' && [',', ')', ']', '.', '::', '['].includes(text)) return false;
  if (previous.type === 'punct' && ['(', '[', '.', '::'].includes(previous.text)) return false;
  if (previous.unary) return false;
  if (text === '(') {
    if (previous.type === 'ident') return false;
    if (previous.type === 'word') {
      const word = previous.text.toLowerCase();
      // INSERT INTO t (a, b) and CREATE TABLE t (…) name columns, not call a function.
      if (['into', 'table', 'view'].includes(previousWord(beforePrevious) ?? '')) return true;
      return KEYWORDS.has(word) && !FUNCTION_LIKE.has(word);
    }
  }
  if (token.type === 'op' && (text === '-' || text === '+') && isOperandStart(next) && !isOperandEnd(previous)) token.unary = true;
  return true;
}

function isOperandStart(token) {
  return token !== undefined && (['number', 'word', 'ident', 'param', 'string'].includes(token.type) || token.text === '(');
}

function isOperandEnd(token) {
  if (['number', 'ident', 'param', 'string'].includes(token.type)) return true;
  if (token.type === 'word') return !KEYWORDS.has(token.text.toLowerCase()) || ['null', 'true', 'false', 'end'].includes(token.text.toLowerCase());
  return token.text === ')' || token.text === ']';
}
