// The consoles colour SQL by spans the PDP takes from PostgreSQL's own lexer (libpg-query's
// scanner). Over generated texts built from the lexer's tricky pieces (quotes, E'' escapes,
// dollar tags, nested comments, CR, U+2028, astral and bidi characters): the spans are exactly
// the scanner's comments and literals (UTF-8 offsets mapped right), the console's formatter
// takes them as they are, and its laid-out text, lexed again, has the very same comments.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { loadModule, scanSync } from 'libpg-query';
import { actionDisplay } from '../src/approvals/action-display.ts';
import { sqlDisplaySpans } from '../src/approvals/sql-display-spans.ts';

const PIECES = [
  'SELECT ', 'UPDATE t SET a = ', ' WHERE id = 7 ', 'OR id > 0', "'", "''", "E'", "e'", '\\', "\\'", '--', '-', '/*', '*/', '*', '/',
  '$', '$$', '$a$', '$A$', '$_1$', '"', '""', 'U&\'', 'u&"', "B'01'", "X'ff'", '\r', '\n', '\r\n', '\u2028', '\u0085', '\v', '\f', '\t',
  '..', 'é', '😀', '\u202E', '\u200B', '\u00A0', '\u3000', '\uFEFF', ' ', 'x', 'E', 'U&', 'n', '1', '1.5e3', '.', ';', '(', ')', ',', '::', '<>', '+', '~', '!=', '#', '$1',
];

const oneByteStandIns = (sql: string) => sql.replace(/[\v\f]/g, ' ').replace(/[\u0000-\u0008\u000e-\u001f]/g, '#');

function scannerTokens(sql: string): { name: string; text: string }[] | undefined {
  if (sql === '') return [];
  const bytes = Buffer.from(sql, 'utf8');
  try {
    return scanSync(oneByteStandIns(sql)).tokens.map((token) => ({ name: token.tokenName, text: bytes.subarray(token.start, token.end).toString('utf8') }));
  } catch {
    return undefined;
  }
}

const isComment = (name: string) => name === 'SQL_COMMENT' || name === 'C_COMMENT';
const isLiteral = (token: { name: string; text: string }) => ['SCONST', 'USCONST', 'BCONST', 'XCONST'].includes(token.name) || /^[uU]&'|^[bBxXnN]'/.test(token.text);

type Formatter = {
  tokenizeSql(sql: string, spans?: unknown): { type: string; text: string }[];
  formatSql(sql: string, spans?: unknown): string;
  formatSqlPieces(sql: string, spans?: unknown): { type: string; text: string }[];
};
let formatter: Formatter;

before(async () => {
  await loadModule();
  formatter = (await import(String(new URL('../console/js/sql-formatter.js', import.meta.url)))) as Formatter;
});

const texts = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 24 }).map((pieces) => pieces.join(''));

test('the spans are exactly the scanner\'s comments and literals, in order, in UTF-16 offsets', () => {
  fc.assert(
    fc.property(texts, (sql) => {
      const tokens = scannerTokens(sql);
      const spans = sqlDisplaySpans(sql);
      if (tokens === undefined) {
        assert.equal(spans, undefined, 'a text the scanner refuses gets no spans');
        return;
      }
      assert.ok(spans !== undefined);
      let previousEnd = 0;
      for (const [start, end] of spans) {
        assert.ok(start >= previousEnd && end > start && end <= sql.length, 'ordered, disjoint, in bounds');
        previousEnd = end;
      }
      const shown = (kind: string) => spans.filter(([, , spanKind]) => spanKind === kind).map(([start, end]) => sql.slice(start, end));
      assert.deepEqual(shown('comment'), tokens.filter((token) => isComment(token.name)).map((token) => token.text));
      assert.deepEqual(shown('string'), tokens.filter(isLiteral).map((token) => token.text));
    }),
    { numRuns: 3000 },
  );
});

test('the console formatter keeps the spans as tokens, and its laid-out text lexes to the same comments and literals', () => {
  fc.assert(
    fc.property(texts, (sql) => {
      const spans = sqlDisplaySpans(sql);
      if (spans === undefined) return;
      const tokens = formatter.tokenizeSql(sql, spans);
      assert.equal(tokens.map((token) => token.text).join(''), sql, 'every character in exactly one token');
      const commentTokens = tokens.filter((token) => token.type === 'line-comment' || token.type === 'block-comment').map((token) => token.text);
      assert.deepEqual(commentTokens, spans.filter(([, , kind]) => kind === 'comment').map(([start, end]) => sql.slice(start, end)));
      const pieces = formatter.formatSqlPieces(sql, spans);
      assert.deepEqual(
        pieces.filter((piece) => piece.type === 'line-comment' || piece.type === 'block-comment').map((piece) => piece.text),
        commentTokens,
        'the laid-out view marks the same comments',
      );
      const relexed = scannerTokens(formatter.formatSql(sql, spans));
      const original = scannerTokens(sql)!;
      if (relexed === undefined) assert.fail(`the laid-out text of ${JSON.stringify(sql)} no longer lexes: ${JSON.stringify(formatter.formatSql(sql, spans))}`);
      assert.deepEqual(relexed.filter((token) => isComment(token.name)).map((token) => token.text), original.filter((token) => isComment(token.name)).map((token) => token.text));
      assert.deepEqual(relexed.filter(isLiteral).map((token) => token.text), original.filter(isLiteral).map((token) => token.text));
      // Every token the same (unquoted words fold case in PostgreSQL, so upper-casing keeps them).
      const fold = (tokens: { name: string; text: string }[]) => tokens.map((token) => (isComment(token.name) || isLiteral(token) || token.text.startsWith('"') ? token.text : token.text.toLowerCase()));
      assert.deepEqual(fold(relexed), fold(original), `the laid-out text of ${JSON.stringify(sql)} lexes to other tokens: ${JSON.stringify(formatter.formatSql(sql, spans))}`);
    }),
    { numRuns: 3000 },
  );
});

test('the issue\'s example and its kin are flagged with a reason an approver can read', () => {
  const cr = actionDisplay({ type: 'sql', sql: 'UPDATE orders SET status=1 WHERE id=7 -- ticket OPS-42, one row only\rOR id > 0' });
  assert.deepEqual(cr.hidden, [{ name: 'CR', count: 1 }]);
  assert.ok(cr.suspicious.some((reason) => /lone carriage return/.test(reason)));
  const sql = 'UPDATE orders SET status=1 WHERE id=7 -- ticket OPS-42, one row only\rOR id > 0';
  assert.deepEqual(cr.sql_spans?.filter(([, , kind]) => kind === 'comment').map(([start, end]) => sql.slice(start, end)), ['-- ticket OPS-42, one row only']);
  const bidi = actionDisplay({ type: 'shell', command: 'ls \u202Eexe.txt' });
  assert.ok(bidi.suspicious.some((reason) => /bidirectional/.test(reason)));
  const separator = actionDisplay({ type: 'http', method: 'GET', path: '/a', headers: { 'x-note': 'a\u2028b' } });
  assert.ok(separator.suspicious.some((reason) => /look like line breaks/.test(reason)));
  const clean = actionDisplay({ type: 'sql', sql: 'DELETE FROM orders WHERE id = 7 -- ticket\n' });
  assert.deepEqual(clean.suspicious, []);
  assert.deepEqual(clean.hidden, []);
});

test('a repeated text gets the kept spans, which no display can change for the next one', () => {
  const sql = "UPDATE accounts SET note = 'kept' /* twice */ WHERE id = $1";
  const first = sqlDisplaySpans(sql);
  assert.ok(first !== undefined && first.length > 0);
  assert.equal(sqlDisplaySpans(sql), first, 'the second ask is answered from the kept spans');
  assert.ok(Object.isFrozen(first) && first.every((span) => Object.isFrozen(span)));
  const shown = actionDisplay({ type: 'sql', sql });
  shown.sql_spans![0]![1] = 0;
  shown.sql_spans!.length = 0;
  assert.deepEqual(actionDisplay({ type: 'sql', sql }).sql_spans, first.map((span) => [...span]));
  // A text the scanner refuses is refused again, not remembered as anything.
  assert.equal(sqlDisplaySpans("SELECT 'unterminated"), undefined);
  assert.equal(sqlDisplaySpans("SELECT 'unterminated"), undefined);
});
