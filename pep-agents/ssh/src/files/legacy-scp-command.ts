/**
 * Reads an exec request as legacy scp's server side (`scp -t` receives, `scp -f` sends), which
 * OpenSSH's `scp -O` and older clients run on the host. Such a command is never run there: the
 * PEP speaks scp itself and does each file step as a decided SFTP operation. It is read as the
 * host's shell would split it (quotes and backslashes); anything that shell would do more with
 * (variables, globs, `~user`, several commands, redirections) is refused rather than guessed at.
 */
export interface LegacyScpRequest {
  /** `sink`: the client uploads (-t); `source`: the client downloads (-f). */
  readonly mode: 'sink' | 'source';
  /** -t: one target; -f: the paths to send. As written (the caller resolves them). */
  readonly paths: readonly string[];
  readonly recursive: boolean;
  readonly preserveTimes: boolean;
  /** -d: the target must be a directory. */
  readonly targetIsDirectory: boolean;
}

export type LegacyScpReading = { readonly ok: true; readonly request: LegacyScpRequest } | { readonly ok: false; readonly problem: string };

const SERVER_FLAGS = new Set(['d', 'f', 'p', 'r', 't', 'v']);
// Outside quotes, these make the shell do something other than pass a word on.
const SHELL_SPECIAL = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[', ']', '{', '}', '\n', '\r']);

/** The request, a refusal for a server-mode scp the PEP will not model, or undefined when it is not one. */
export function readLegacyScp(command: string): LegacyScpReading | undefined {
  if (!looksLikeScpServer(command)) return undefined;
  const words = shellWords(command);
  if (typeof words === 'string') return { ok: false, problem: words };
  const [program, ...args] = words;
  if (program === undefined || !/(^|\/)scp$/.test(program)) return { ok: false, problem: 'scp must be the only command' };
  const flags = new Set<string>();
  const paths: string[] = [];
  let optionsOver = false;
  for (const arg of args) {
    if (!optionsOver && arg === '--') optionsOver = true;
    else if (!optionsOver && arg.startsWith('-') && arg.length > 1) {
      for (const flag of arg.slice(1)) {
        if (!SERVER_FLAGS.has(flag)) return { ok: false, problem: `scp option -${flag} is not offered through the PEP` };
        flags.add(flag);
      }
    } else paths.push(arg);
  }
  if (flags.has('t') === flags.has('f')) return { ok: false, problem: 'scp needs exactly one of -t and -f' };
  const mode = flags.has('t') ? 'sink' : 'source';
  if (mode === 'sink' && paths.length !== 1) return { ok: false, problem: 'scp -t takes one target' };
  if (paths.length === 0) return { ok: false, problem: 'scp -f needs a path' };
  return { ok: true, request: { mode, paths, recursive: flags.has('r'), preserveTimes: flags.has('p'), targetIsDirectory: flags.has('d') } };
}

/** Any command whose first word names scp and that passes -t or -f somewhere: handled or refused here, never run as a shell command. */
function looksLikeScpServer(command: string): boolean {
  const first = /^\s*(\S+)/.exec(command)?.[1] ?? '';
  if (!/(^|\/)['"]?scp['"]?$/.test(first)) return false;
  return /(^|\s)['"]?-[a-zA-Z0-9]*[tf]/.test(command.slice(first.length + command.indexOf(first)));
}

/** The words the shell would pass, or why the command is more than words. */
function shellWords(command: string): string[] | string {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  while (i < command.length) {
    const char = command[i]!;
    if (char === ' ' || char === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
      i += 1;
    } else if (char === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return 'an unterminated quote';
      word = (word ?? '') + command.slice(i + 1, end);
      i = end + 1;
    } else if (char === '"') {
      let text = '';
      i += 1;
      for (;;) {
        if (i >= command.length) return 'an unterminated quote';
        const inner = command[i]!;
        if (inner === '"') break;
        if (inner === '$' || inner === '`') return 'shell expansions are not offered through the PEP';
        if (inner === '\\' && i + 1 < command.length && '$`"\\\n'.includes(command[i + 1]!)) {
          text += command[i + 1];
          i += 2;
        } else {
          text += inner;
          i += 1;
        }
      }
      word = (word ?? '') + text;
      i += 1;
    } else if (char === '\\') {
      if (i + 1 >= command.length || command[i + 1] === '\n') return 'a trailing backslash';
      word = (word ?? '') + command[i + 1];
      i += 2;
    } else if (char === '~' && word === undefined) {
      // Tilde expansion: `~` and `~/…` are the login's home, where scp starts and relative paths resolve from.
      const next = command[i + 1];
      if (next !== undefined && next !== '/' && next !== ' ' && next !== '\t') return 'paths starting with ~user are not offered through the PEP';
      word = next === '/' ? '' : '.';
      i += next === '/' ? 2 : 1;
    } else if (SHELL_SPECIAL.has(char) || (char === '#' && word === undefined)) {
      return 'shell syntax beyond plain words is not offered through the PEP';
    } else {
      word = (word ?? '') + char;
      i += 1;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
