/**
 * Text that bash evaluates again while the command runs, after the parser has read it as data.
 *
 * bash expands an array subscript (command substitution included) each time it evaluates a
 * name or an arithmetic expression, even when the text came from a quoted word or a variable:
 * `test -v 'a[$(cmd)]'`, `[[ 'a[$(cmd)]' -eq 1 ]]`, `x='a[$(cmd)]'; echo $((x))`, `let`,
 * `(( ))`, `$(( ))`, `$[ ]`, `for (( ))`, array subscripts and slices, `[[ -v ]]`/`-R`,
 * `printf -v`, `read`, `mapfile`, `unset`, `declare`/`local`/`typeset` (and -i, -n), `wait -p`,
 * `getopts`, `${!name}`; `${x@P}` expands a value as a prompt, command substitution included; and a
 * declaration parses a quoted `(…)` value given to an array as a compound assignment
 * (`declare -a a='($(cmd))'`, `x='(…)'; declare -a a=$x`).
 * What such text runs is no command of the parse, so each place where it may hold code becomes a
 * dynamic entry (via "arithmetic") that policy denies:
 * - a quoted or literal word in one of these places that holds `$` or a backquote;
 * - a command substitution whose output is evaluated there;
 * - a variable evaluated there (by name, `$x`, `${!x}`, `${x@P}`, recursively through the
 *   values the text gives) whose value is unknown (read, $(…), ${x:-…}, a loop over anything but
 *   plain words, positional parameters, $_, BASH_REMATCH …) or holds `[`, `$` or a backquote.
 * A value that arithmetic computed is a number and holds no code.
 */
import { ARITHMETIC_TEST_OPERATORS, NAME_TEST_OPERATORS } from './mvdan-shell-parser.ts';
import { childNodes, isNode, type SyntaxNode, type Word } from './syntax-tree.ts';
import { evaluateWord, type CommandWord } from './word-literal.ts';
import type { EnvironmentChange } from './environment-change.ts';

export const EVALUATED_TEXT_VIA = 'arithmetic';

/** Code in text bash evaluates as arithmetic. */
const CODE_CHARACTER = /[$`]/;
/** Code in a subscript of text bash evaluates as a variable name. */
const CODE_IN_SUBSCRIPT = /\[[\s\S]*[$`]/;
/** A value that may add a subscript or code to the text it is evaluated in. */
const VALUE_MAY_HOLD_CODE = /[[$`]/;
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/g;
/** $1, ${10}, $@, $*: the positional parameters (set --, or the arguments of a shell string). */
const POSITIONAL = /\$(\{)?[0-9@*]/;
/** Variables bash fills from text the command does not show. */
const UNKNOWN_VALUES = new Set(['_', 'BASH_REMATCH', 'REPLY', 'OPTARG', 'MAPFILE', 'BASH_COMMAND', 'BASH_ARGV', 'BASH_EXECUTION_STRING', 'SSH_ORIGINAL_COMMAND', 'READLINE_LINE', 'COMP_LINE', 'COMP_WORDS']);
/** Builtins whose operands (and option values) are variable names, subscripts included. */
const NAME_BUILTINS = new Set(['read', 'mapfile', 'readarray', 'unset', 'declare', 'typeset', 'local', 'readonly']);
/** Builtins that take a variable name as the value of an option: printf -v NAME, wait -p NAME. */
const NAME_OPTIONS: Readonly<Record<string, string>> = { printf: '-v', wait: '-p' };
/** NAME=(…) given to a declaration builtin as one word: bash parses the value as a compound assignment. */
const COMPOUND_VALUE = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=\(/;
/** Declaration flags that make a value a compound assignment (-a, -A). */
const ARRAY_ATTRIBUTES = /^[-+][A-Za-z]*[aA]/;
/** Declaration flags that make later assignments (-i) or references (-n) evaluate text. */
const EVALUATING_ATTRIBUTES = /^[-+][A-Za-z]*[in]/;
/** Value routes that hold only what arithmetic computed: a number. */
const NUMERIC_ROUTES = new Set(['arithmetic']);

type RawText = (node: SyntaxNode) => string;

export class EvaluatedText {
  /** Texts that may hold code when bash evaluates them: each becomes a dynamic entry. */
  readonly code: string[] = [];
  /** Variables whose values bash evaluates as arithmetic, a name or a prompt. */
  private readonly evaluatedNames = new Set<string>();
  /** -i or -n somewhere: any value the text assigns may be evaluated. */
  private everyValue = false;
  /** Loop variables over plain words only, and those over anything else. */
  private readonly plainLoopNames = new Set<string>();
  private readonly otherLoopNames = new Set<string>();
  /** Names the text makes arrays, and declaration values only known at run time by the name they set. */
  private readonly arrayNames = new Set<string>();
  private readonly dynamicDeclarations: { name: string; text: string; substitution: boolean; array: boolean }[] = [];

  /** Walks a parsed script (or any node) for the syntax that evaluates text. */
  inSyntax(node: SyntaxNode, rawText: RawText): void {
    if (isNode(node, 'LetClause')) for (const expression of node.Exprs) this.arithmetic(expression, rawText);
    else if (node.type === 'ArithmExp' || node.type === 'ArithmCmd') this.arithmetic(node.X as SyntaxNode, rawText);
    else if (node.type === 'CStyleLoop') for (const part of [node.Init, node.Cond, node.Post]) this.arithmetic(part as SyntaxNode | null, rawText);
    else if (node.type === 'ParamExp') this.parameter(node, rawText);
    else if (isNode(node, 'Assign') && node.Index) this.arithmetic(node.Index, rawText);
    if (isNode(node, 'Assign') && node.Array && node.Name) this.arrayNames.add(node.Name.Value);
    else if (node.type === 'UnaryTest' && NAME_TEST_OPERATORS.includes(node.Op as string)) this.name(node.X as SyntaxNode, rawText);
    else if (node.type === 'BinaryTest' && ARITHMETIC_TEST_OPERATORS.includes(node.Op as string)) {
      this.arithmetic(node.X as SyntaxNode, rawText);
      this.arithmetic(node.Y as SyntaxNode, rawText);
    } else if (isNode(node, 'DeclClause')) this.declaration(node.Args, rawText);
    else if (node.type === 'WordIter') this.loop(node);
    for (const child of childNodes(node)) this.inSyntax(child, rawText);
  }

  /** A simple command given as words (also one a wrapper runs: command let, builtin read). */
  inCommand(name: string, args: readonly CommandWord[]): void {
    if (name === 'let') {
      for (const word of args) this.arithmeticWord(word);
    } else if (name === 'test' || name === '[') {
      args.forEach((word, index) => {
        const next = args[index + 1];
        if ((word.literal === '-v' || word.literal === '-R') && next) this.nameWord(next);
      });
    } else if (NAME_OPTIONS[name] !== undefined) {
      const option = NAME_OPTIONS[name];
      args.forEach((word, index) => {
        const next = args[index + 1];
        if (word.literal === option && next) this.nameWord(next);
        else if (word.literal?.startsWith(option)) this.nameWord({ ...word, literal: word.literal.slice(option.length) });
        else if (word.literal === null) this.dynamicWord(word);
      });
    } else if (NAME_BUILTINS.has(name)) {
      for (const word of args) {
        if (word.literal !== null && EVALUATING_ATTRIBUTES.test(word.literal)) this.everyValue = true;
        this.nameWord(word);
      }
    }
    if (name === 'mapfile' || name === 'readarray' || name === 'read') for (const word of args) if (word.literal !== null && /^[A-Za-z_][A-Za-z0-9_]*$/.test(word.literal)) this.arrayNames.add(word.literal);
    if (NAME_BUILTINS.has(name) || name === 'export') {
      // declare -a a='($(cmd))' parses the quoted value as a compound assignment, substitutions and all.
      for (const word of args) {
        if (word.literal !== null && COMPOUND_VALUE.test(word.literal) && CODE_CHARACTER.test(word.literal)) this.code.push(word.literal);
        else if (word.literal === null && /^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(word.prefix)) this.dynamicWord(word);
      }
    }
  }

  /** Variables evaluated by the text whose values may hold code, given every change the text makes. */
  unsoundVariables(environment: readonly EnvironmentChange[]): string[] {
    // A value only known at run time given to an array by a declaration is a compound assignment:
    // its substitutions' output and the variables in it are parsed again.
    for (const declaration of this.dynamicDeclarations) {
      if (!declaration.array && !this.arrayNames.has(declaration.name)) continue;
      if (declaration.substitution) this.code.push(declaration.text);
      this.references(declaration.text);
    }
    const seen = new Set<string>();
    const pending = [...this.evaluatedNames];
    if (this.everyValue) for (const change of environment) if (change.name !== null) pending.push(change.name);
    const unsound: string[] = [];
    while (pending.length > 0) {
      const name = pending.pop() as string;
      if (seen.has(name)) continue;
      seen.add(name);
      if (UNKNOWN_VALUES.has(name) || this.otherLoopNames.has(name)) {
        unsound.push(name);
        continue;
      }
      for (const change of environment) {
        if (change.name !== name || change.unset || NUMERIC_ROUTES.has(change.route)) continue;
        if (change.route === 'for' && this.plainLoopNames.has(name)) continue;
        if (change.value === null || VALUE_MAY_HOLD_CODE.test(change.value)) {
          unsound.push(name);
          break;
        }
        // Arithmetic evaluates a name's value in turn: x='y+1' evaluates y.
        for (const match of change.value.matchAll(IDENTIFIER)) pending.push(match[0]);
      }
    }
    return unsound;
  }

  private arithmetic(node: SyntaxNode | null, rawText: RawText): void {
    if (!node) return;
    const text = rawText(node);
    this.references(text);
    if (containsSubstitution(node)) this.code.push(text);
    for (const word of wordsIn(node)) {
      const value = evaluateWord(word);
      if (value.quoted && value.literal !== null && CODE_CHARACTER.test(value.literal)) this.code.push(value.literal);
    }
  }

  private name(node: SyntaxNode, rawText: RawText): void {
    if (!isNode(node, 'Word')) return;
    const value = evaluateWord(node);
    if (value.literal !== null) {
      if (CODE_IN_SUBSCRIPT.test(value.literal)) this.code.push(value.literal);
      return;
    }
    const text = rawText(node);
    this.references(text);
    if (containsSubstitution(node)) this.code.push(text);
  }

  private arithmeticWord(word: CommandWord): void {
    if (word.literal !== null) {
      if (CODE_CHARACTER.test(word.literal)) this.code.push(word.literal);
      return;
    }
    this.dynamicWord(word);
  }

  private nameWord(word: CommandWord): void {
    if (word.literal !== null) {
      if (CODE_IN_SUBSCRIPT.test(word.literal)) this.code.push(word.literal);
      return;
    }
    this.dynamicWord(word);
  }

  /** A word known only at run time: the variables in it are evaluated; a substitution's output is. */
  private dynamicWord(word: CommandWord): void {
    this.references(word.raw);
    if (/\$\(|`|<\(|>\(/.test(word.raw)) this.code.push(word.raw);
  }

  private references(text: string): void {
    if (POSITIONAL.test(text)) this.code.push(text);
    for (const match of text.matchAll(IDENTIFIER)) this.evaluatedNames.add(match[0]);
  }

  private parameter(node: SyntaxNode, rawText: RawText): void {
    const param = node.Param as SyntaxNode | null;
    const name = isNode(param, 'Lit') ? param.Value : null;
    const index = node.Index as SyntaxNode | null;
    if (index && !isAllElements(index)) this.arithmetic(index, rawText);
    const slice = node.Slice as SyntaxNode | null;
    if (slice) {
      this.arithmetic(slice.Offset as SyntaxNode | null, rawText);
      this.arithmetic(slice.Length as SyntaxNode | null, rawText);
    }
    // ${!x}: x's value names the variable; ${x@P}: x's value is expanded as a prompt.
    const expansion = node.Exp as SyntaxNode | null;
    const prompt = expansion?.Op === '@' && isNode(expansion.Word, 'Word') && evaluateWord(expansion.Word).literal !== 'Q';
    if (name !== null && (node.Excl === true || prompt)) this.references(name);
  }

  private declaration(args: readonly SyntaxNode[], rawText: RawText): void {
    const assigns = args.filter((arg) => isNode(arg, 'Assign'));
    const flagged = (pattern: RegExp): boolean => assigns.some((arg) => arg.Naked && isNode(arg.Value, 'Word') && pattern.test(evaluateWord(arg.Value).literal ?? ''));
    const evaluating = flagged(EVALUATING_ATTRIBUTES);
    const array = flagged(ARRAY_ATTRIBUTES);
    if (evaluating) this.everyValue = true;
    for (const arg of assigns) {
      if (array && arg.Name) this.arrayNames.add(arg.Name.Value);
      if (!arg.Value) continue;
      if (!arg.Naked && arg.Name && !arg.Array) {
        const literal = evaluateWord(arg.Value).literal;
        // declare -a a='($(cmd))': the quoted value is parsed as a compound assignment.
        if (literal !== null && literal.startsWith('(') && CODE_CHARACTER.test(literal)) this.code.push(literal);
        if (literal === null) this.dynamicDeclarations.push({ name: arg.Name.Value, text: rawText(arg.Value), substitution: containsSubstitution(arg.Value), array });
      }
      if (arg.Naked) {
        const literal = evaluateWord(arg.Value).literal;
        if (literal !== null && COMPOUND_VALUE.test(literal) && CODE_CHARACTER.test(literal)) this.code.push(literal);
        if (!EVALUATING_ATTRIBUTES.test(literal ?? '')) this.name(arg.Value, rawText);
      } else if (evaluating) {
        // declare -i x=VALUE evaluates VALUE; declare -n r=VALUE makes VALUE a name evaluated at each use.
        this.arithmetic(arg.Value, rawText);
        const literal = evaluateWord(arg.Value).literal;
        if (literal !== null && CODE_CHARACTER.test(literal)) this.code.push(literal);
      }
    }
  }

  private loop(node: SyntaxNode): void {
    const name = isNode(node.Name, 'Lit') ? node.Name.Value : null;
    if (name === null) return;
    const items = Array.isArray(node.Items) ? (node.Items as SyntaxNode[]) : [];
    const plain = items.every((item) => {
      const literal = isNode(item, 'Word') ? evaluateWord(item).literal : null;
      return literal !== null && !VALUE_MAY_HOLD_CODE.test(literal);
    });
    // "for x; do" loops over the positional parameters.
    (plain && items.length > 0 ? this.plainLoopNames : this.otherLoopNames).add(name);
  }
}

function containsSubstitution(node: SyntaxNode): boolean {
  if (node.type === 'CmdSubst' || node.type === 'ProcSubst') return true;
  for (const child of childNodes(node)) if (containsSubstitution(child)) return true;
  return false;
}

/** Every word in an expression, and the words inside them (${x:-'…'}). */
function* wordsIn(node: SyntaxNode): Generator<Word> {
  if (isNode(node, 'Word')) yield node;
  for (const child of childNodes(node)) yield* wordsIn(child);
}

/** ${a[@]} and ${a[*]} list the elements: nothing is evaluated. */
function isAllElements(index: SyntaxNode): boolean {
  const literal = isNode(index, 'Word') ? evaluateWord(index).literal : null;
  return literal === '@' || literal === '*';
}
