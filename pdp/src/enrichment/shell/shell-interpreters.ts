/**
 * Shells given a command string (sh -c '…', bash -lc '…') or reading commands from standard input.
 * Every string a shell runs is followed with via "sh -c", whichever shell it is, so one rule in
 * policy covers them all.
 */
import type { CommandRun } from './command-runs.ts';
import type { CommandWord } from './word-literal.ts';

export const SHELL_STRING_VIA = 'sh -c';
export const SHELL_STDIN_VIA = 'sh <<';

const SHELLS = new Set(['sh', 'bash', 'rbash', 'dash', 'zsh', 'ksh', 'ksh93', 'mksh', 'lksh', 'pdksh', 'oksh', 'ash', 'yash', 'posh']);
/** Long options that take the next word as their value. */
const VALUED_LONG_OPTIONS = new Set(['--rcfile', '--init-file', '--emulate']);
/** Long options without a value (bash, zsh). */
const LONG_FLAGS = new Set([
  '--debugger', '--dump-po-strings', '--dump-strings', '--help', '--login', '--noediting', '--noprofile',
  '--norc', '--posix', '--protected', '--restricted', '--verbose', '--version', '--wordexp', '--pretty-print',
  '--interactive', '--no-rcs', '--no-globalrcs',
]);

export function isShellInterpreter(name: string): boolean {
  return SHELLS.has(name);
}

/** What a shell invocation runs; `args` are the words after the shell's name. */
export function shellInterpreterRuns(args: readonly CommandWord[]): CommandRun[] {
  let commandString = false;
  let index = 0;
  while (index < args.length) {
    const word = args[index] as CommandWord;
    const text = word.literal;
    if (text === null) return [{ kind: 'unknown', words: args.slice(index), via: SHELL_STRING_VIA }];
    if (text === '--' || text === '-') {
      index++;
      break;
    }
    if (text.startsWith('--')) {
      const name = text.split('=')[0] ?? text;
      if (VALUED_LONG_OPTIONS.has(name)) {
        if (!text.includes('=') && args[index + 1]?.splits) return [{ kind: 'unknown', words: args.slice(index), via: SHELL_STRING_VIA }];
        index += text.includes('=') ? 1 : 2;
      }
      else if (LONG_FLAGS.has(name)) index++;
      // An unknown long option might take a value and shift the command string: cannot tell.
      else return [{ kind: 'unknown', words: args.slice(index), via: SHELL_STRING_VIA }];
      continue;
    }
    if (!/^[-+]./.test(text)) break;
    // -c, -ec, -lc, -euo pipefail, +x, -O extglob.
    let takesValue = false;
    for (const letter of text.slice(1)) {
      if (letter === 'c' && text.startsWith('-')) commandString = true;
      else if (letter === 'o' || letter === 'O') takesValue = true;
    }
    if (takesValue && args[index + 1]?.splits) return [{ kind: 'unknown', words: args.slice(index), via: SHELL_STRING_VIA }];
    index += takesValue ? 2 : 1;
  }

  if (commandString) {
    const script = args[index];
    if (!script) return [];
    return [{ kind: 'script', script: script.literal, via: SHELL_STRING_VIA }];
  }
  // A script file runs code the analyzer cannot see; the shell itself stays in the commands.
  if (index < args.length && !args.slice(0, index).some((word) => /^-[a-zA-Z]*s/.test(word.literal ?? ''))) return [];
  return [{ kind: 'stdin', via: SHELL_STDIN_VIA }];
}
