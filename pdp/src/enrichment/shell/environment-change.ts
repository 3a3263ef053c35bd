/**
 * Every way a shell command text sets, exports or removes a variable, so policy can tell when an
 * assignment changes what a command loads or runs (LD_PRELOAD=x ls, PATH=/tmp:$PATH ls, env,
 * export, declare -x, read, printf -v, for loops, ${X:=…}, ((X=…)) …). One entry per change, from
 * the syntax (prefix and bare assignments, declaration clauses, loops, expansions, arithmetic)
 * and from the commands that change variables (declare and friends called as words, env, sudo,
 * exec -c, unset, read, printf -v, mapfile, getopts, set -a).
 */
import { scanOptions, type OptionSyntax } from './option-scanner.ts';
import type { CommandWord } from './word-literal.ts';

export interface EnvironmentChange {
  /** The variable; "*" for the whole environment (env -i, exec -c, sudo -E, set -a); null when only known at run time. */
  name: string | null;
  /** How it is written: prefix, assignment, export, declare, env, env -u, unset, read, for, expansion, arithmetic … */
  route: string;
  /** The value after quote removal; null when dynamic, read at run time, an array or removed. */
  value: string | null;
  /** It reaches the environment of the commands run (prefix, env, export, declare -x …). */
  exported: boolean;
  /** It removes the variable (or, for "*", the whole environment) rather than setting it. */
  unset: boolean;
  /** += appends to the value. */
  append: boolean;
  /** The wrapper or shell string it came from, as for commands; null at top level. */
  via: string | null;
}

/** An entry before it knows where it came from. */
export type EnvironmentDraft = Omit<EnvironmentChange, 'via'>;

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ASSIGNMENT_WORD = /^([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?(\+?)=([\s\S]*)$/;

export function draft(name: string | null, route: string, fields: Partial<EnvironmentDraft> = {}): EnvironmentDraft {
  return { name, route, value: null, exported: false, unset: false, append: false, ...fields };
}

/** NAME=VALUE (NAME+=, NAME[i]=) as one word: the assignment, or undefined when the word is not one. */
export function assignmentOfWord(word: CommandWord, route: string, exported: boolean): EnvironmentDraft | undefined {
  if (word.literal !== null) {
    const match = ASSIGNMENT_WORD.exec(word.literal);
    if (!match) return undefined;
    return draft(match[1] ?? null, route, { value: match[2] ? null : (match[4] ?? ''), exported, append: match[3] === '+' });
  }
  // A dynamic value after a literal NAME=: the name is known.
  const match = ASSIGNMENT_WORD.exec(word.prefix);
  if (match) return draft(match[1] ?? null, route, { exported, append: match[3] === '+' });
  return undefined;
}

/** A word that names a variable (export NAME, unset NAME, read NAME): its name, or null when dynamic or not a name. */
function nameOfWord(word: CommandWord | undefined): string | null {
  const text = word?.literal;
  if (text === null || text === undefined) return null;
  const bare = text.replace(/\[[^\]]*\]$/, '');
  return VARIABLE_NAME.test(bare) ? bare : null;
}

/** One argument of a declaration (export, declare, typeset, readonly, local). */
export type DeclarationItem =
  | { readonly kind: 'flags'; readonly sign: '-' | '+'; readonly letters: string }
  | { readonly kind: 'assign'; readonly name: string | null; readonly value: string | null; readonly append: boolean }
  | { readonly kind: 'name'; readonly name: string | null };

export const DECLARATION_COMMANDS = new Set(['export', 'declare', 'typeset', 'readonly', 'local', 'nameref']);

/** A declaration command's words as items (for `builtin export …`, `"declare" …`). */
export function declarationItemsOfWords(words: readonly CommandWord[]): DeclarationItem[] {
  return words.map((word): DeclarationItem => {
    const text = word.literal;
    if (text !== null && /^[-+][A-Za-z]+$/.test(text)) return { kind: 'flags', sign: text[0] as '-' | '+', letters: text.slice(1) };
    // "--" ends the options and names nothing.
    if (text === '--') return { kind: 'flags', sign: '-', letters: '' };
    const assignment = assignmentOfWord(word, '', false);
    if (assignment) return { kind: 'assign', name: assignment.name, value: assignment.value, append: assignment.append };
    return { kind: 'name', name: nameOfWord(word) };
  });
}

/** What a declaration changes: variables set or exported, functions exported, names a nameref aliases. */
export function declarationChanges(command: string, items: readonly DeclarationItem[]): EnvironmentDraft[] {
  const on = new Set<string>();
  const off = new Set<string>();
  for (const item of items) if (item.kind === 'flags') for (const letter of item.letters) (item.sign === '-' ? on : off).add(letter);
  // export -n un-exports; for the others -n makes a nameref.
  const nameref = command === 'nameref' || (command !== 'export' && on.has('n'));
  const exports = (command === 'export' && !on.has('n')) || on.has('x');
  const unexports = (command === 'export' && on.has('n')) || off.has('x');
  const changes: EnvironmentDraft[] = [];
  for (const item of items) {
    if (item.kind === 'flags') continue;
    if (on.has('f') || on.has('F')) {
      // export -f NAME puts the function in the environment, where every bash started runs it for NAME.
      if (exports) changes.push(draft(item.name === null ? null : `BASH_FUNC_${item.name}%%`, `${command} -f`, { exported: true }));
      continue;
    }
    if (nameref) {
      // A nameref aliases the variable its value names: later assignments to it change that one.
      const target = item.kind === 'assign' ? (item.value !== null && VARIABLE_NAME.test(item.value) ? item.value : null) : item.name;
      changes.push(draft(target, `${command} -n`));
      continue;
    }
    const route = unexports ? (command === 'export' ? 'export -n' : `${command} +x`) : command;
    if (item.kind === 'assign') changes.push(draft(item.name, route, { value: item.value, append: item.append, exported: exports || unexports, unset: unexports }));
    // A bare name: export NAME exports its value; local NAME and declare NAME give it a new, empty one.
    else if (!on.has('p')) changes.push(draft(item.name, route, { exported: exports || unexports, unset: unexports }));
  }
  return changes;
}

const READ: OptionSyntax = { valued: 'adinNptu', flags: 'ers' };
const PRINTF: OptionSyntax = { valued: 'v' };
const MAPFILE: OptionSyntax = { valued: 'dnOsuCc', flags: 't' };
const UNSET: OptionSyntax = { flags: 'fvn' };
const GETOPTS: OptionSyntax = {};

/**
 * The variables a builtin command changes (as words: also when a wrapper runs it); none for
 * other commands. A name the words do not give is null, and so is the name of a command whose
 * options cannot be read.
 */
export function builtinChanges(name: string, args: readonly CommandWord[]): EnvironmentDraft[] {
  if (DECLARATION_COMMANDS.has(name)) return declarationChanges(name, declarationItemsOfWords(args));
  const unreadable = [draft(null, name)];
  switch (name) {
    case 'unset': {
      const scan = scanOptions(args, UNSET);
      if (!scan.ok) return unreadable;
      if (scan.seen.has('f')) return [];
      return scan.operands.map((index) => draft(nameOfWord(args[index]), 'unset', { unset: true }));
    }
    case 'read': {
      const scan = scanOptions(args, READ);
      if (!scan.ok) return unreadable;
      const names = scan.operands.map((index) => nameOfWord(args[index]));
      const array = scan.values.get('a');
      if (scan.seen.has('a')) names.push(array ? nameOfWord(array.word) : null);
      return (names.length > 0 ? names : ['REPLY']).map((variable) => draft(variable, 'read'));
    }
    case 'printf': {
      const scan = scanOptions(args, PRINTF);
      if (!scan.ok) return unreadable;
      const target = scan.values.get('v');
      return scan.seen.has('v') ? [draft(target ? nameOfWord(target.word) : null, 'printf -v')] : [];
    }
    case 'mapfile':
    case 'readarray': {
      const scan = scanOptions(args, MAPFILE);
      if (!scan.ok) return unreadable;
      const first = scan.operands[0];
      return [draft(first === undefined ? 'MAPFILE' : nameOfWord(args[first]), name)];
    }
    case 'getopts': {
      const scan = scanOptions(args, GETOPTS);
      if (!scan.ok) return unreadable;
      const target = scan.operands[1];
      return [draft(target === undefined ? null : nameOfWord(args[target]), 'getopts')];
    }
    case 'set':
      return allexport(args) ? [draft('*', 'set -a', { exported: true })] : [];
    default:
      return [];
  }
}

/** set -a, set -o allexport (also in a cluster: -ae): every later assignment is exported. */
function allexport(args: readonly CommandWord[]): boolean {
  for (let index = 0; index < args.length; index++) {
    const text = args[index]?.literal;
    if (text === null || text === undefined) return true;
    if (text === '--') return false;
    if (/^-[A-Za-z]*a[A-Za-z]*$/.test(text) && !text.startsWith('--')) return true;
    if (/^-[A-Za-z]*o$/.test(text)) {
      const option = args[index + 1]?.literal;
      if (option === null || option === 'allexport') return true;
      index++;
    }
  }
  return false;
}
