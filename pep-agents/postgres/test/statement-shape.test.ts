import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadModule, scanSync, type ScanToken } from 'libpg-query';
import { literalSpans, statementShape } from '../src/decisions/statement-shape.ts';

// The oracle is PostgreSQL's own lexer (libpg-query's scanner): texts of one shape must lex into
// the same tokens, apart from the values of literals.
before(async () => {
  await loadModule();
});

const LITERAL_TOKENS = new Set(['ICONST', 'FCONST', 'SCONST', 'BCONST', 'XCONST', 'USCONST']);

function isLiteral(token: ScanToken): boolean {
  // B'…', X'…' and U&'…' come back as UNKNOWN from the scanner's name table: told by their text.
  return LITERAL_TOKENS.has(token.tokenName) || (token.tokenName === 'UNKNOWN' && token.keywordKind === 0 && /^([bBxXnN]|[uU]&)'/.test(token.text));
}

/** How PostgreSQL lexes a text, literal values left out; undefined when it does not lex at all. */
function lexedStructure(sql: string): string[] | undefined {
  let tokens: ScanToken[];
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    return undefined;
  }
  return tokens.map((token) => (isLiteral(token) ? `${token.tokenName}:<literal>` : `${token.tokenName}:${token.keywordKind}:${token.text}`));
}

describe('statementShape', () => {
  it('gives every key pgbench looks up the same shape', () => {
    const one = statementShape('SELECT abalance FROM pgbench_accounts WHERE aid = 4242;');
    assert.ok(one);
    assert.equal(statementShape('SELECT abalance FROM pgbench_accounts WHERE aid = 17;'), one);
    assert.equal(statementShape("SELECT name FROM t WHERE a = 'x' AND b = 1.5e3"), statementShape("SELECT name FROM t WHERE a = 'it''s' AND b = .25"));
  });

  it('keeps apart texts that differ outside literal values', () => {
    const base = statementShape('SELECT a FROM t WHERE id = 1');
    for (const other of [
      'SELECT b FROM t WHERE id = 1',
      'select a FROM t WHERE id = 1',
      "SELECT a FROM t WHERE id = '1'",
      'SELECT a FROM t WHERE id = 1 -- note',
      'SELECT a FROM t WHERE id = 1 /* note */',
      'SELECT a FROM t WHERE id = $1',
      'SELECT a FROM "t" WHERE id = 1',
      'SELECT a FROM t WHERE id = 1; DELETE FROM t',
      'SELECT a  FROM t WHERE id = 1',
    ]) {
      assert.notEqual(statementShape(other), base, other);
    }
    assert.notEqual(statementShape('SELECT $a$1$a$'), statementShape('SELECT $a$2$a$'), 'dollar-quoted bodies may be code: kept as they are');
  });

  it('gives up wherever a token boundary is not certain', () => {
    for (const text of [
      "SELECT 'a\\' , 1 --'", // a backslash: its meaning depends on standard_conforming_strings
      "SELECT E'\\''",
      "SELECT 'open",
      'SELECT "open',
      'SELECT /* open /* nested */',
      'SELECT $x$ open',
      'SELECT 0x1F', // a hex integer since PostgreSQL 16, "0 AS x1F" before
      'SELECT 1_000', // likewise "1 AS _000" before 16
      'SELECT 12abc',
      'SELECT 1\u0000; DROP TABLE t',
      `SELECT '${'x'.repeat(20_000)}'`,
    ]) {
      assert.equal(statementShape(text), undefined, text);
    }
  });

  it('blanks exactly what PostgreSQL lexes as a literal value', () => {
    const text = "SELECT a, 'b''c', 1.5, $1, $$d$$, \"e\"\"f\", E'g', B'101', U&'h' UESCAPE '!' FROM t -- 'i'\n/* 'j' 2 /* 3 */ */ WHERE k = 42";
    const shape = statementShape(text);
    assert.ok(shape);
    const shown = shape.replaceAll('\u0000n', '<n>').replaceAll('\u0000s', '<s>');
    assert.equal(shown, "SELECT a, '<s>', <n>, $1, $$d$$, \"e\"\"f\", E'<s>', B'<s>', U&'<s>' UESCAPE '<s>' FROM t -- 'i'\n/* 'j' 2 /* 3 */ */ WHERE k = <n>");
  });

  it('never gives one shape to texts PostgreSQL lexes differently (random texts, literal values varied)', () => {
    const random = seededRandom(20261126);
    const pieces = [
      'SELECT', ' ', ' ', '\t', 'a', 'E', 'e', 'U&', 'u&', 'B', 'b', 'x', 'X', 'N', '_', 'é', 'a$', "'", "''", '\\', '"', '""', '$', '$$',
      '$q$', '$1', '1', '23', '4.5', '.6', 'e7', 'E+2', '--', '\n', '/*', '*/', '*', '/', '-', '+', ';', ',', '(', ')', '::', '.', '..',
      'FROM', 't', '=', 'UESCAPE',
    ];
    let shaped = 0;
    let compared = 0;
    for (let n = 0; n < 20_000; n += 1) {
      const length = 1 + Math.floor(random() * 14);
      const text = Array.from({ length }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      const shape = statementShape(text);
      const structure = lexedStructure(text);
      if (shape === undefined || structure === undefined) continue;
      shaped += 1;
      for (let variant = 0; variant < 3; variant += 1) {
        const other = withOtherLiteralValues(text, random);
        assert.equal(statementShape(other), shape, `variant of ${JSON.stringify(text)}: ${JSON.stringify(other)}`);
        assert.deepEqual(lexedStructure(other), structure, `${JSON.stringify(text)} and ${JSON.stringify(other)} share a shape but lex differently`);
        compared += 1;
      }
    }
    // The generator must reach enough shaped texts for the check to mean something.
    assert.ok(shaped > 2500, `only ${shaped} random texts had a shape`);
    assert.ok(compared > 7500);
  });
});

/**
 * The same text with every literal given another value of its class: digits for a number (its
 * fraction and exponent kept), any text (quotes doubled, no backslash) for a string body.
 */
function withOtherLiteralValues(text: string, random: () => number): string {
  const out: string[] = [];
  let copiedUpTo = 0;
  for (const literal of literalSpans(text)!) {
    const original = text.slice(literal.start, literal.end);
    const value = literal.kind === 'number' ? otherNumber(original, random) : literal.kind === 'bit-string' ? otherBits(random) : otherStringBody(random);
    out.push(text.slice(copiedUpTo, literal.start), value);
    copiedUpTo = literal.end;
  }
  out.push(text.slice(copiedUpTo));
  return out.join('');
}

function otherNumber(original: string, random: () => number): string {
  const digits = (): string => String(Math.floor(random() * 100_000));
  const [mantissa, exponent] = original.split(/[eE]/) as [string, string | undefined];
  let value = mantissa.includes('.') ? `${mantissa.startsWith('.') ? '' : digits()}.${digits()}` : digits();
  if (exponent !== undefined) value += `e${exponent.startsWith('-') ? '-' : ''}${Math.floor(random() * 9) + 1}`;
  return value;
}

function otherBits(random: () => number): string {
  return Array.from({ length: Math.floor(random() * 6) }, () => (random() < 0.5 ? '0' : '1')).join('');
}

function otherStringBody(random: () => number): string {
  const alphabet = ['a', ' ', "''", '$', '$$', '--', '/*', '"', ';', '1', 'é', '\n', '*/'];
  return Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
}

/** Deterministic, so a failure reproduces. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
