/** What a command runs besides itself, as the analyzer follows it. */
import type { CommandWord } from './word-literal.ts';

export type CommandRun =
  /** These words are a command it executes (sudo rm …, find -exec rm {} ;). */
  | { readonly kind: 'command'; readonly words: readonly CommandWord[]; readonly via: string }
  /** A string it hands to a shell (bash -c, su -c, watch); null when dynamic. */
  | { readonly kind: 'script'; readonly script: string | null; readonly via: string }
  /** A string split into the words of a command, followed by more words (env -S). */
  | { readonly kind: 'split'; readonly script: string | null; readonly rest: readonly CommandWord[]; readonly via: string }
  /** A shell reading its commands from standard input (a here-document or here-string may be it). */
  | { readonly kind: 'stdin'; readonly via: string }
  /** It runs something the analyzer cannot locate: these are the words it could not place. */
  | { readonly kind: 'unknown'; readonly words: readonly CommandWord[]; readonly via: string };
