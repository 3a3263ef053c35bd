/**
 * Builtins that keep shell code to run later: a trap's action, an alias's text (run in place of
 * its name where aliases expand), mapfile's -C callback. The analyzer follows each as a shell
 * string, so what they would run is judged like any command; code only known at run time is a
 * dynamic entry.
 */
import type { CommandRun } from './command-runs.ts';
import { scanOptions, type OptionSyntax } from './option-scanner.ts';
import type { CommandWord } from './word-literal.ts';

const TRAP: OptionSyntax = { flags: 'lpP' };
const MAPFILE: OptionSyntax = { valued: 'dnOsuCc', flags: 't' };
const ALIAS: OptionSyntax = { flags: 'p' };

export function isCodeKeepingBuiltin(name: string): boolean {
  return name === 'trap' || name === 'alias' || name === 'mapfile' || name === 'readarray';
}

export function builtinCodeRuns(name: string, args: readonly CommandWord[]): CommandRun[] {
  switch (name) {
    case 'trap': {
      const scan = scanOptions(args, TRAP);
      if (!scan.ok) return [{ kind: 'unknown', words: args.slice(scan.at), via: 'trap' }];
      if (scan.seen.has('l') || scan.seen.has('p') || scan.seen.has('P') || scan.operands.length < 2) return [];
      const action = args[scan.operands[0] as number] as CommandWord;
      // "-" resets the signals, "" ignores them: no code either way.
      if (action.literal === '-' || action.literal === '') return [];
      return [{ kind: 'script', script: action.literal, via: 'trap' }];
    }
    case 'alias': {
      const scan = scanOptions(args, ALIAS);
      if (!scan.ok) return [{ kind: 'unknown', words: args.slice(scan.at), via: 'alias' }];
      return scan.operands.flatMap((index): CommandRun[] => {
        const word = args[index] as CommandWord;
        const text = word.literal ?? word.prefix;
        const equals = text.indexOf('=');
        if (equals <= 0 && word.literal !== null) return [];
        return [{ kind: 'script', script: word.literal === null ? null : text.slice(equals + 1), via: 'alias' }];
      });
    }
    case 'mapfile':
    case 'readarray': {
      const scan = scanOptions(args, MAPFILE);
      if (!scan.ok || !scan.seen.has('C')) return [];
      return [{ kind: 'script', script: scan.values.get('C')?.literal ?? null, via: `${name} -C` }];
    }
    default:
      return [];
  }
}
