/**
 * What a shell word is once quotes are removed, when that is known before it runs.
 *
 * A word is dynamic (its literal is null) when anything decides it at run time: parameter,
 * command or arithmetic expansion, process substitution, pathname globbing (unquoted *, ?, […],
 * extended globs) or brace expansion ({a,b}, {1..3}). Tilde prefixes are kept as written.
 */
import { decodeAnsiCQuoted } from './ansi-c-quoting.ts';
import { isNode, type SyntaxNode, type Word } from './syntax-tree.ts';

export interface WordLiteral {
  /** The word after quote removal, or null when it is decided at run time. */
  literal: string | null;
  /** The quote-removed text before the first run-time part (all of it when literal). */
  prefix: string;
  /** Any quoting or escaping in the word (a quoted here-document delimiter disables expansion). */
  quoted: boolean;
  /** Expansion outside double quotes or globbing: at run time the word may become several words. */
  splits: boolean;
}

/** A word of a simple command, with its source text for when it is dynamic. */
export interface CommandWord extends WordLiteral {
  raw: string;
}

/** A word known only as text (from a string the analyzer split itself). */
export function literalWord(text: string): CommandWord {
  return { literal: text, prefix: text, quoted: false, splits: false, raw: text };
}

/**
 * How backslashes read inside a part: bare words, "double quotes", here-document bodies, and
 * bodies of here-documents with a quoted delimiter (nothing is special).
 */
type QuotingContext = 'bare' | 'double' | 'heredoc' | 'verbatim';

const DOUBLE_QUOTE_ESCAPABLE = new Set(['$', '`', '"', '\\', '\n']);
const HEREDOC_ESCAPABLE = new Set(['$', '`', '\\', '\n']);

class WordText {
  text = '';
  /** One flag per UTF-16 unit of text: quoted characters never glob or brace-expand. */
  quotedMask: boolean[] = [];
  dynamicAt: number | null = null;
  quoted = false;
  splits = false;

  add(text: string, quoted: boolean): void {
    this.text += text;
    for (let index = 0; index < text.length; index++) this.quotedMask.push(quoted);
  }

  markDynamic(): void {
    this.dynamicAt ??= this.text.length;
  }
}

export function evaluateWord(word: Word, context: 'bare' | 'heredoc' | 'verbatim' = 'bare'): WordLiteral {
  const text = new WordText();
  for (const part of word.Parts) addPart(text, part, context);
  const expandsAt = context === 'bare' ? firstExpansion(text) : null;
  if (expandsAt !== null) {
    text.splits = true;
    if (text.dynamicAt === null || expandsAt < text.dynamicAt) text.dynamicAt = expandsAt;
  }
  if (text.dynamicAt !== null) {
    return { literal: null, prefix: text.text.slice(0, text.dynamicAt), quoted: text.quoted, splits: text.splits };
  }
  return { literal: text.text, prefix: text.text, quoted: text.quoted, splits: false };
}

function addPart(text: WordText, part: SyntaxNode, context: QuotingContext): void {
  if (isNode(part, 'Lit')) {
    addLiteral(text, part.Value, context);
  } else if (isNode(part, 'SglQuoted')) {
    text.quoted = true;
    text.add(part.Dollar ? decodeAnsiCQuoted(part.Value) : part.Value, true);
  } else if (isNode(part, 'DblQuoted')) {
    text.quoted = true;
    // $"…" is a locale translation of the same text.
    for (const inner of part.Parts) addPart(text, inner, 'double');
  } else {
    // ParamExp, CmdSubst, ArithmExp, ProcSubst, ExtGlob, BraceExp and anything not modelled.
    text.markDynamic();
    if (context === 'bare') text.splits = true;
  }
}

function addLiteral(text: WordText, value: string, context: QuotingContext): void {
  const quoted = context !== 'bare';
  if (context === 'verbatim') {
    text.add(value, true);
    return;
  }
  let index = 0;
  while (index < value.length) {
    const char = value[index] ?? '';
    const next = value[index + 1];
    if (char === '\\' && next !== undefined) {
      const escapes = context === 'bare' || (context === 'double' ? DOUBLE_QUOTE_ESCAPABLE : HEREDOC_ESCAPABLE).has(next);
      if (escapes) {
        if (context === 'bare') text.quoted = true;
        // A backslash-newline joins lines and leaves nothing.
        if (next !== '\n') text.add(next, true);
        index += 2;
        continue;
      }
    }
    text.add(char, quoted);
    index++;
  }
}

/**
 * Where pathname or brace expansion would rewrite the word, or null. Errs towards "expands":
 * an unquoted [ with any later ] counts as a bracket expression.
 */
function firstExpansion(text: WordText): number | null {
  const { text: value, quotedMask } = text;
  const unquoted = (index: number, char: string): boolean => value[index] === char && quotedMask[index] === false;
  for (let index = 0; index < value.length; index++) {
    if (unquoted(index, '*') || unquoted(index, '?')) return index;
    if (unquoted(index, '[') && value.indexOf(']', index + 1) !== -1) return index;
    if (unquoted(index, '{') && bracesExpand(value, quotedMask, index)) return index;
  }
  return null;
}

/** {a,b} or {x..y} from the unquoted { at `open` to its unquoted closing }. */
function bracesExpand(value: string, quotedMask: boolean[], open: number): boolean {
  let depth = 0;
  let separated = false;
  for (let index = open; index < value.length; index++) {
    if (quotedMask[index]) continue;
    const char = value[index];
    if (char === '{') depth++;
    else if (char === '}') {
      depth--;
      if (depth === 0) return separated || /^\{[^{}]*\.\.[^{}]*\}$/.test(value.slice(open, index + 1));
    } else if (char === ',' && depth === 1) separated = true;
  }
  return false;
}
