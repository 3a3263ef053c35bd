/**
 * Shell commands as policy sees them (docs/policy-input.md, `action.type == "shell"`): every
 * simple command the text can run, found with a real shell parser (mvdan/sh, bash dialect), so
 * no rule has to parse a string.
 *
 * Where a command's structure is decided only at run time the output says so instead of
 * guessing: a dynamic word is null, a dynamic command name sets dynamic_name, and a string a
 * shell would run but that is dynamic (bash -c "$X"), or a wrapper whose command cannot be
 * located (sudo $FLAGS rm), adds a synthetic entry { name: "", dynamic_name: true } carrying the
 * via. Anything that cannot be analysed at all (syntax error, a shell string that does not parse,
 * too large, too deep) is a parse_error with no commands.
 *
 * `environment` lists every variable the text sets, exports or removes, by any route
 * (shell/environment-change.ts), so policy can tell an assignment that changes what a command
 * loads or runs (LD_PRELOAD=x ls, PATH=/tmp:$PATH ls) from a shell variable.
 *
 * via values: "$(…)" (command substitution, backquotes too), "<(…)" / ">(…)", "sh -c" (the
 * string given to any shell with -c), "sh <<" (a here-document or here-string fed to a shell),
 * "su -c", "env -S", "watch", "time", "trap", "alias", "mapfile -C" / "readarray -C", "find -exec" / "find -execdir" / "find -ok" / "find -okdir",
 * "flock -c", "script -c", "sg -c", "runuser -c", "arithmetic" (text bash evaluates again that may
 * hold code: shell/evaluated-text.ts), and the wrapper's name for env, nice, nohup, timeout,
 * command, builtin, exec, stdbuf, xargs, sudo, doas, chroot, setsid, ionice, pkexec, busybox,
 * flock, taskset, chrt, unshare, nsenter, setpriv, numactl, fakeroot, catchsegv, eatmydata,
 * nocache, runuser (and, as unknown, parallel, sem, systemd-run, systemd-nspawn, at, batch,
 * strace, ltrace, valgrind, gdb, perf, torsocks, proxychains, firejail, bwrap, cgexec).
 */
import { AnalysisCache } from './analysis-cache.ts';
import { CommandCollector, ShellAnalysisError, type CollectorLimits } from './shell/command-collector.ts';
import { createShellParser, type ShellParser } from './shell/mvdan-shell-parser.ts';
import type { EnrichedShellAction } from './shell/shell-command.ts';

export type { EnvironmentChange } from './shell/environment-change.ts';
export type { EnrichedShellAction, ShellCommand, ShellRedirect } from './shell/shell-command.ts';

export interface ShellAnalyzer {
  /** Never rejects: whatever cannot be analysed comes back as parse_error. */
  analyze(command: string): Promise<EnrichedShellAction>;
}

/** Longer commands are refused unread. */
export const MAX_SHELL_COMMAND_BYTES = 64 * 1024;

const LIMITS: CollectorLimits = {
  maxNesting: 16,
  maxParsedBytes: 4 * MAX_SHELL_COMMAND_BYTES,
  maxCommands: 10_000,
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Analyses kept for repeated commands (analysis-cache.ts), and the longest text kept. */
const CACHED_ANALYSES = 4096;
const MAX_CACHED_COMMAND_LENGTH = 4096;

export async function createShellAnalyzer(): Promise<ShellAnalyzer> {
  const parser = createShellParser();
  const cache = new AnalysisCache<EnrichedShellAction>(CACHED_ANALYSES, MAX_CACHED_COMMAND_LENGTH);
  return {
    analyze: async (command) => {
      if (typeof command !== 'string') return analyzeShellCommand(parser, command);
      return cache.get(command) ?? cache.remember(command, analyzeShellCommand(parser, command));
    },
  };
}

function analyzeShellCommand(parser: ShellParser, command: string): EnrichedShellAction {
  const failed = (parseError: string): EnrichedShellAction => ({
    type: 'shell',
    command: typeof command === 'string' ? command : String(command),
    parse_error: parseError,
    commands: [],
    environment: [],
  });
  if (typeof command !== 'string') return failed('command is not a string');
  if (Buffer.byteLength(command, 'utf8') > MAX_SHELL_COMMAND_BYTES) {
    return failed(`command longer than ${MAX_SHELL_COMMAND_BYTES} bytes`);
  }
  // Unpaired surrogates have no UTF-8 form: the parser and the shell would read different bytes.
  if (LONE_SURROGATE.test(command)) return failed('command is not valid Unicode text');
  // Whatever passes the command on as a C string stops at a NUL, so the shell runs less than we read.
  if (command.includes('\0')) return failed('command contains a NUL character');

  const collector = new CommandCollector(parser, LIMITS);
  try {
    collector.collectScript(command, null, 0, null);
    collector.finish();
  } catch (error) {
    if (error instanceof ShellAnalysisError) return failed(error.message);
    if (error instanceof RangeError) return failed('command nests too deeply to analyse');
    return failed(`shell analysis failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { type: 'shell', command, parse_error: null, commands: collector.commands, environment: collector.environment };
}
