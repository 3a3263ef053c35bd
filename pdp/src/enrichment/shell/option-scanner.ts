/**
 * getopt-style option scanning for the commands that run other commands, so the analyzer finds
 * where the wrapped command starts. An option it does not know, or a word it cannot read
 * (dynamic), stops the scan as "cannot tell": guessing could hide the real command behind an
 * option value.
 */
import type { CommandWord } from './word-literal.ts';

export interface OptionSyntax {
  /** Short options that take a value, attached (-uroot) or as the next word (-u root). */
  readonly valued?: string;
  /** Short options without a value. */
  readonly flags?: string;
  /** Short options whose value can only be attached (-i[replace]). */
  readonly optionalValue?: string;
  /** Long options that take a value: --user=root or --user root. */
  readonly longValued?: readonly string[];
  /** Long options without a value, or with an optional attached one (--preserve-env[=list]). */
  readonly longFlags?: readonly string[];
  /** -10 as a number option (nice). */
  readonly numeric?: boolean;
  /** A lone "-" is an option (env -, su -), not an operand. */
  readonly dashIsOption?: boolean;
  /** GNU argument permutation: options may follow operands (su root -c …). */
  readonly permute?: boolean;
}

export interface OptionValue {
  readonly word: CommandWord;
  readonly literal: string | null;
}

export type OptionScan =
  | {
      readonly ok: true;
      /** Options seen: short letters as "u", long names as "--user". */
      readonly seen: ReadonlySet<string>;
      readonly values: ReadonlyMap<string, OptionValue>;
      /** Every option in order with its value, repeats included (env -u A -u B). */
      readonly occurrences: readonly (readonly [string, OptionValue | undefined])[];
      /** Indices of the operands, in order. Without permutation: every word from the first. */
      readonly operands: readonly number[];
    }
  | { readonly ok: false; readonly at: number };

export function scanOptions(words: readonly CommandWord[], syntax: OptionSyntax): OptionScan {
  const seen = new Set<string>();
  const values = new Map<string, OptionValue>();
  const occurrences: [string, OptionValue | undefined][] = [];
  const operands: number[] = [];
  const valued = syntax.valued ?? '';
  const flags = syntax.flags ?? '';
  const optionalValue = syntax.optionalValue ?? '';

  const remember = (key: string, value?: OptionValue): void => {
    seen.add(key);
    occurrences.push([key, value]);
    if (value) values.set(key, value);
  };
  const valueAt = (index: number): OptionValue | undefined => {
    const word = words[index];
    return word ? { word, literal: word.literal } : undefined;
  };
  // An option value that may split into several words would shift every word after it.
  const splitsAt = (index: number): boolean => words[index]?.splits === true;

  let index = 0;
  while (index < words.length) {
    const word = words[index] as CommandWord;
    const text = word.literal;
    if (text === null) {
      // A dynamic word that may expand to an option: the command cannot be located.
      if (word.prefix.startsWith('-') || word.prefix === '') return { ok: false, at: index };
      if (!syntax.permute) break;
      operands.push(index++);
      continue;
    }
    if (text === '--') {
      index++;
      break;
    }
    if (text === '-' && syntax.dashIsOption) {
      remember('-');
      index++;
      continue;
    }
    if (!text.startsWith('-') || text === '-') {
      if (!syntax.permute) break;
      operands.push(index++);
      continue;
    }
    if (text.startsWith('--')) {
      const equals = text.indexOf('=');
      const written = text.slice(2, equals === -1 ? undefined : equals);
      const name = resolveLongOption(written, syntax);
      if (name === null) return { ok: false, at: index };
      if (syntax.longValued?.includes(name)) {
        if (equals !== -1) {
          remember(`--${name}`, { word, literal: text.slice(equals + 1) });
          index++;
        } else {
          if (splitsAt(index + 1)) return { ok: false, at: index };
          remember(`--${name}`, valueAt(index + 1));
          index += 2;
        }
      } else {
        remember(`--${name}`);
        index++;
      }
      continue;
    }
    if (syntax.numeric && /^-[0-9]+$/.test(text)) {
      remember('numeric');
      index++;
      continue;
    }
    // A cluster of short options: -Eu root, -uroot, -xc.
    let consumedNext = false;
    for (let position = 1; position < text.length; position++) {
      const letter = text[position] as string;
      const rest = text.slice(position + 1);
      if (valued.includes(letter)) {
        if (rest !== '') remember(letter, { word, literal: rest });
        else {
          if (splitsAt(index + 1)) return { ok: false, at: index };
          remember(letter, valueAt(index + 1));
          consumedNext = true;
        }
        break;
      }
      if (optionalValue.includes(letter)) {
        remember(letter, { word, literal: rest });
        break;
      }
      if (!flags.includes(letter)) return { ok: false, at: index };
      remember(letter);
    }
    index += consumedNext ? 2 : 1;
  }
  for (let rest = index; rest < words.length; rest++) operands.push(rest);
  return { ok: true, seen, values, occurrences, operands };
}

/** Exact long option, or getopt_long's unambiguous abbreviation of one; null when neither. */
function resolveLongOption(written: string, syntax: OptionSyntax): string | null {
  const known = [...(syntax.longValued ?? []), ...(syntax.longFlags ?? [])];
  if (known.includes(written)) return written;
  if (written === '') return null;
  const candidates = known.filter((name) => name.startsWith(written));
  return candidates.length === 1 ? (candidates[0] ?? null) : null;
}
