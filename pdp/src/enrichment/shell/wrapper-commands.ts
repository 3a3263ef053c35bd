/**
 * Commands that run another command: env, nice, nohup, timeout, time, command, builtin, exec,
 * stdbuf, xargs, sudo, doas, su -c, runuser, sg, watch, chroot, setsid, ionice, pkexec, busybox,
 * find -exec, flock, taskset, chrt, unshare, nsenter, setpriv, script -c, numactl, fakeroot,
 * catchsegv, eatmydata, nocache, newgrp; and those whose command the analyzer cannot locate
 * (parallel, sem, systemd-run, systemd-nspawn, at, batch, strace, ltrace, valgrind, gdb, perf,
 * torsocks, proxychains, firejail, bwrap, cgexec), which are reported as unknown.
 * Each entry says how to skip the wrapper's own options and operands to reach the command.
 */
import type { CommandRun } from './command-runs.ts';
import { draft, type EnvironmentDraft } from './environment-change.ts';
import { scanOptions, type OptionSyntax } from './option-scanner.ts';
import { SHELL_STDIN_VIA } from './shell-interpreters.ts';
import type { CommandWord } from './word-literal.ts';

interface WrapperSyntax {
  /** null: no options at all, the first word is the command (a leading "--" is skipped). */
  readonly options: OptionSyntax | null;
  /** Operands between the options and the command: timeout's duration, chroot's new root. */
  readonly operandsBefore?: number;
  /** NAME=VALUE words before the command are assignments (env, sudo). */
  readonly assignments?: boolean;
  /** With any of these options it runs nothing (command -v, sudo -l). */
  readonly runsNothingWith?: readonly string[];
  /** Options whose value is a shell string, with the via to report. */
  readonly scriptOptions?: Readonly<Record<string, string>>;
  /** Options whose value is split into the command's first words (env -S). */
  readonly splitOptions?: Readonly<Record<string, string>>;
  /** The operands are not a command (su: a user name and the shell's arguments). */
  readonly operandsAreNotACommand?: boolean;
  /** Without a command it starts a shell reading standard input: always, or with these options. */
  readonly shellWithoutCommand?: 'always' | readonly string[];
  /** What it runs cannot be located from its words (a job queue, a unit's properties, input templates). */
  readonly runsUnknown?: boolean;
}

const WRAPPERS: Readonly<Record<string, WrapperSyntax>> = {
  env: {
    options: {
      valued: 'uCSP',
      flags: 'i0v',
      longValued: ['unset', 'chdir', 'split-string'],
      longFlags: ['ignore-environment', 'null', 'debug', 'default-signal', 'ignore-signal', 'block-signal', 'list-signal-handling', 'help', 'version'],
      dashIsOption: true,
    },
    assignments: true,
    runsNothingWith: ['--help', '--version'],
    splitOptions: { S: 'env -S', '--split-string': 'env -S' },
  },
  nice: { options: { valued: 'n', longValued: ['adjustment'], longFlags: ['help', 'version'], numeric: true }, runsNothingWith: ['--help', '--version'] },
  nohup: { options: null },
  timeout: {
    options: { valued: 'sk', flags: 'v', longValued: ['signal', 'kill-after'], longFlags: ['preserve-status', 'foreground', 'verbose', 'help', 'version'] },
    operandsBefore: 1,
    runsNothingWith: ['--help', '--version'],
  },
  time: {
    options: { valued: 'fo', flags: 'apqvV', longValued: ['format', 'output'], longFlags: ['append', 'portability', 'quiet', 'verbose', 'version', 'help'] },
    runsNothingWith: ['V', '--version', '--help'],
  },
  command: { options: { flags: 'pvV' }, runsNothingWith: ['v', 'V'] },
  builtin: { options: null },
  exec: { options: { valued: 'a', flags: 'cl' } },
  stdbuf: { options: { valued: 'ioe', longValued: ['input', 'output', 'error'], longFlags: ['help', 'version'] }, runsNothingWith: ['--help', '--version'] },
  xargs: {
    options: {
      valued: 'adEILnPs',
      optionalValue: 'eil',
      flags: '0prtxo',
      longValued: ['arg-file', 'delimiter', 'max-args', 'max-procs', 'max-chars', 'process-slot-var'],
      longFlags: ['null', 'interactive', 'no-run-if-empty', 'verbose', 'exit', 'open-tty', 'show-limits', 'eof', 'replace', 'max-lines', 'help', 'version'],
    },
    runsNothingWith: ['--help', '--version'],
  },
  sudo: {
    options: {
      valued: 'CcDghpRrTtUu',
      flags: 'AbBEeHiKklnNPSsVv',
      longValued: ['close-from', 'login-class', 'chdir', 'group', 'host', 'prompt', 'chroot', 'role', 'command-timeout', 'type', 'other-user', 'user'],
      longFlags: [
        'askpass', 'bell', 'background', 'preserve-env', 'edit', 'set-home', 'login', 'remove-timestamp', 'reset-timestamp',
        'list', 'no-update', 'non-interactive', 'preserve-groups', 'stdin', 'shell', 'version', 'validate', 'help',
      ],
    },
    assignments: true,
    runsNothingWith: ['e', 'l', 'v', 'V', 'K', '--edit', '--list', '--validate', '--version', '--help', '--remove-timestamp'],
    shellWithoutCommand: ['s', 'i', '--shell', '--login'],
  },
  doas: { options: { valued: 'uC', flags: 'nsL' }, runsNothingWith: ['C', 'L'], shellWithoutCommand: ['s'] },
  su: {
    options: {
      valued: 'cgGsw',
      flags: 'flmpP',
      longValued: ['command', 'session-command', 'group', 'supp-group', 'shell', 'whitelist-environment'],
      longFlags: ['fast', 'login', 'preserve-environment', 'pty', 'help', 'version'],
      dashIsOption: true,
      permute: true,
    },
    scriptOptions: { c: 'su -c', '--command': 'su -c', '--session-command': 'su -c' },
    operandsAreNotACommand: true,
    shellWithoutCommand: 'always',
  },
  chroot: {
    options: { longValued: ['userspec', 'groups'], longFlags: ['skip-chdir', 'help', 'version'] },
    operandsBefore: 1,
    runsNothingWith: ['--help', '--version'],
    shellWithoutCommand: 'always',
  },
  setsid: { options: { flags: 'cfw', longFlags: ['ctty', 'fork', 'wait', 'help', 'version'] }, runsNothingWith: ['--help', '--version'] },
  ionice: {
    options: { valued: 'cnpPu', flags: 't', longValued: ['class', 'classdata', 'pid', 'pgid', 'uid'], longFlags: ['ignore', 'help', 'version'] },
    runsNothingWith: ['p', 'P', 'u', '--pid', '--pgid', '--uid', '--help', '--version'],
  },
  pkexec: { options: { longValued: ['user'], longFlags: ['disable-internal-agent', 'keep-cwd', 'help', 'version'] }, runsNothingWith: ['--help', '--version'] },
  // util-linux and friends that run their operands as a command (flock, sg and runuser below).
  taskset: {
    options: { flags: 'acphV', longFlags: ['all-tasks', 'cpu-list', 'pid', 'help', 'version'] },
    operandsBefore: 1,
    runsNothingWith: ['p', 'h', 'V', '--pid', '--help', '--version'],
  },
  chrt: {
    options: {
      valued: 'TPD',
      flags: 'abdefimoprRvhV',
      longValued: ['sched-runtime', 'sched-period', 'sched-deadline'],
      longFlags: ['all-tasks', 'batch', 'deadline', 'ext', 'fifo', 'idle', 'max', 'other', 'pid', 'rr', 'reset-on-fork', 'verbose', 'help', 'version'],
    },
    operandsBefore: 1,
    runsNothingWith: ['p', 'm', 'h', 'V', '--pid', '--max', '--help', '--version'],
  },
  unshare: {
    options: {
      valued: 'RwSGl',
      flags: 'fhVmuinpCTUrc',
      longValued: ['root', 'wd', 'setuid', 'setgid', 'load-interp', 'propagation', 'setgroups', 'map-user', 'map-group', 'map-users', 'map-groups', 'monotonic', 'boottime'],
      longFlags: ['mount', 'uts', 'ipc', 'net', 'pid', 'user', 'cgroup', 'time', 'fork', 'kill-child', 'mount-proc', 'map-root-user', 'map-current-user', 'map-auto', 'keep-caps', 'help', 'version'],
    },
    runsNothingWith: ['h', 'V', '--help', '--version'],
    shellWithoutCommand: 'always',
  },
  nsenter: {
    options: {
      valued: 'tSG',
      optionalValue: 'muinpCUTrwW',
      flags: 'aehVFZ',
      longValued: ['target', 'setuid', 'setgid'],
      longFlags: [
        'all', 'mount', 'uts', 'ipc', 'net', 'pid', 'cgroup', 'user', 'time', 'root', 'wd', 'wdns', 'env', 'no-fork', 'follow-context',
        'preserve-credentials', 'keep-caps', 'user-parent', 'join-cgroup', 'help', 'version',
      ],
    },
    runsNothingWith: ['h', 'V', '--help', '--version'],
    shellWithoutCommand: 'always',
  },
  setpriv: {
    options: {
      flags: 'dhV',
      longValued: [
        'reuid', 'regid', 'ruid', 'rgid', 'euid', 'egid', 'groups', 'inh-caps', 'ambient-caps', 'bounding-set', 'securebits', 'pdeathsig',
        'ptracer', 'selinux-label', 'apparmor-profile', 'landlock-access', 'landlock-rule', 'seccomp-filter',
      ],
      longFlags: ['dump', 'nnp', 'no-new-privs', 'clear-groups', 'keep-groups', 'init-groups', 'reset-env', 'list-caps', 'help', 'version'],
    },
    runsNothingWith: ['d', 'h', 'V', '--dump', '--list-caps', '--help', '--version'],
  },
  script: {
    options: {
      valued: 'cEBIOTmo',
      optionalValue: 't',
      flags: 'aefqQhV',
      longValued: ['command', 'echo', 'log-io', 'log-in', 'log-out', 'log-timing', 'logging-format', 'output-limit'],
      longFlags: ['append', 'return', 'flush', 'force', 'quiet', 'timing', 'help', 'version'],
      permute: true,
    },
    scriptOptions: { c: 'script -c', '--command': 'script -c' },
    operandsAreNotACommand: true,
    runsNothingWith: ['h', 'V', '--help', '--version'],
    shellWithoutCommand: 'always',
  },
  numactl: {
    options: {
      valued: 'ipmCNPw',
      flags: 'alsHbV',
      longValued: ['interleave', 'preferred', 'preferred-many', 'membind', 'physcpubind', 'cpunodebind', 'weighted-interleave'],
      longFlags: ['all', 'localalloc', 'show', 'hardware', 'balancing', 'version'],
    },
    runsNothingWith: ['s', 'H', '--show', '--hardware'],
  },
  fakeroot: {
    options: { valued: 'lsib', flags: 'uhv', longValued: ['lib', 'faked'], longFlags: ['unknown-is-real', 'help', 'version'] },
    runsNothingWith: ['h', 'v', '--help', '--version'],
    shellWithoutCommand: 'always',
  },
  catchsegv: { options: null },
  eatmydata: { options: null },
  nocache: { options: null },
  newgrp: { options: { dashIsOption: true }, operandsAreNotACommand: true, shellWithoutCommand: 'always' },
  // Their command comes from a job queue, unit properties, a template over standard input, or
  // options that name programs and environments the analyzer does not follow: unknown.
  parallel: { options: null, runsUnknown: true },
  sem: { options: null, runsUnknown: true },
  'systemd-run': { options: null, runsUnknown: true },
  'systemd-nspawn': { options: null, runsUnknown: true },
  at: { options: null, runsUnknown: true },
  batch: { options: null, runsUnknown: true },
  strace: { options: null, runsUnknown: true },
  ltrace: { options: null, runsUnknown: true },
  valgrind: { options: null, runsUnknown: true },
  gdb: { options: null, runsUnknown: true },
  perf: { options: null, runsUnknown: true },
  torsocks: { options: null, runsUnknown: true },
  proxychains: { options: null, runsUnknown: true },
  proxychains4: { options: null, runsUnknown: true },
  firejail: { options: null, runsUnknown: true },
  bwrap: { options: null, runsUnknown: true },
  cgexec: { options: null, runsUnknown: true },
};

/** runuser -u USER [--] COMMAND runs COMMAND; without -u it is su (a user, then -c or a shell). */
const RUNUSER_OPTIONS: OptionSyntax = {
  valued: 'cgGsuw',
  flags: 'flmpP',
  longValued: ['command', 'session-command', 'group', 'supp-group', 'shell', 'user', 'whitelist-environment'],
  longFlags: ['fast', 'login', 'preserve-environment', 'pty', 'help', 'version'],
  dashIsOption: true,
};

/** flock [options] FILE COMMAND…, flock [options] FILE -c STRING, flock [options] FD. */
const FLOCK_OPTIONS: OptionSyntax = {
  valued: 'wE',
  flags: 'sxenuoFvhV',
  longValued: ['timeout', 'wait', 'conflict-exit-code'],
  longFlags: ['shared', 'exclusive', 'nonblock', 'nb', 'no-fork', 'unlock', 'close', 'verbose', 'help', 'version'],
};

const WATCH_OPTIONS: OptionSyntax = {
  valued: 'nq',
  optionalValue: 'd',
  flags: 'bcCeghprtwx',
  longValued: ['interval', 'equexit'],
  longFlags: ['beep', 'color', 'no-color', 'differences', 'errexit', 'chgexit', 'precise', 'no-rerun', 'no-title', 'no-wrap', 'no-linewrap', 'exec', 'help', 'version'],
};

const FIND_EXEC_PRIMARIES = new Set(['-exec', '-execdir', '-ok', '-okdir']);

export function isWrapperCommand(name: string): boolean {
  return Object.hasOwn(WRAPPERS, name) || ['watch', 'find', 'busybox', 'flock', 'sg', 'runuser'].includes(name);
}

/** What the wrapper `name` runs; `args` are the words after its name. */
export function wrapperRuns(name: string, args: readonly CommandWord[]): CommandRun[] {
  if (name === 'find') return findRuns(args);
  if (name === 'watch') return watchRuns(args);
  if (name === 'busybox') {
    // busybox APPLET args…; busybox --list and friends run nothing.
    const applet = args[0];
    if (!applet || applet.literal?.startsWith('-')) return [];
    return [{ kind: 'command', words: args, via: 'busybox' }];
  }
  if (name === 'flock') return flockRuns(args);
  if (name === 'sg') return sgRuns(args);
  if (name === 'runuser') return runuserRuns(args);
  const syntax = WRAPPERS[name];
  if (!syntax) return [];
  if (syntax.runsUnknown) return [{ kind: 'unknown', words: args, via: name }];
  return genericWrapperRuns(name, syntax, args);
}

function flockRuns(args: readonly CommandWord[]): CommandRun[] {
  const scan = scanOptions(args, FLOCK_OPTIONS);
  if (!scan.ok) return [{ kind: 'unknown', words: args.slice(scan.at), via: 'flock' }];
  if (['h', 'V', '--help', '--version'].some((option) => scan.seen.has(option))) return [];
  const [file, first, second] = scan.operands.map((index) => args[index] as CommandWord);
  if (!file || !first) return [];
  if (file.splits) return [{ kind: 'unknown', words: args.slice(scan.operands[0]), via: 'flock' }];
  if (first.literal === '-c' || first.literal === '--command') return [{ kind: 'script', script: second ? second.literal : '', via: 'flock -c' }];
  if (first.literal === null && (first.prefix === '' || first.prefix.startsWith('-'))) return [{ kind: 'unknown', words: args.slice(scan.operands[1]), via: 'flock' }];
  return [{ kind: 'command', words: args.slice(scan.operands[1]), via: 'flock' }];
}

/** sg [-] [GROUP [-c] COMMAND]: COMMAND is a string for /bin/sh -c; without one, a shell on standard input. */
function sgRuns(args: readonly CommandWord[]): CommandRun[] {
  let index = args[0]?.literal === '-' ? 1 : 0;
  const group = args[index];
  if (!group) return [{ kind: 'stdin', via: SHELL_STDIN_VIA }];
  if (group.literal === null || group.literal.startsWith('-')) return [{ kind: 'unknown', words: args.slice(index), via: 'sg' }];
  index++;
  if (args[index]?.literal === '-c') index++;
  const command = args[index];
  if (!command) return [{ kind: 'stdin', via: SHELL_STDIN_VIA }];
  if (index + 1 < args.length) return [{ kind: 'unknown', words: args.slice(index), via: 'sg' }];
  return [{ kind: 'script', script: command.literal, via: 'sg -c' }];
}

function runuserRuns(args: readonly CommandWord[]): CommandRun[] {
  const scan = scanOptions(args, RUNUSER_OPTIONS);
  if (!scan.ok) return [{ kind: 'unknown', words: args.slice(scan.at), via: 'runuser' }];
  if (!scan.seen.has('u') && !scan.seen.has('--user')) return genericWrapperRuns('runuser', { ...(WRAPPERS.su as WrapperSyntax), scriptOptions: { c: 'runuser -c', '--command': 'runuser -c', '--session-command': 'runuser -c' } }, args);
  if (scan.seen.has('--help') || scan.seen.has('--version')) return [];
  const start = scan.operands[0];
  if (start === undefined) return [{ kind: 'stdin', via: SHELL_STDIN_VIA }];
  return [{ kind: 'command', words: args.slice(start), via: 'runuser' }];
}

function genericWrapperRuns(name: string, syntax: WrapperSyntax, args: readonly CommandWord[]): CommandRun[] {
  let operands: readonly number[];
  let seen: ReadonlySet<string> = new Set();
  const runs: CommandRun[] = [];
  if (syntax.options === null) {
    const start = args[0]?.literal === '--' ? 1 : 0;
    operands = args.map((_, index) => index).slice(start);
  } else {
    const scan = scanOptions(args, syntax.options);
    if (!scan.ok) return [{ kind: 'unknown', words: args.slice(scan.at), via: name }];
    if (syntax.runsNothingWith?.some((option) => scan.seen.has(option))) return [];
    for (const [option, via] of Object.entries(syntax.scriptOptions ?? {})) {
      const value = scan.values.get(option);
      if (scan.seen.has(option)) runs.push({ kind: 'script', script: value ? value.literal : '', via });
    }
    for (const [option, via] of Object.entries(syntax.splitOptions ?? {})) {
      const value = scan.values.get(option);
      if (scan.seen.has(option)) {
        const rest = scan.operands.map((index) => args[index] as CommandWord);
        return [{ kind: 'split', script: value ? value.literal : '', rest, via }];
      }
    }
    operands = scan.operands;
    seen = scan.seen;
  }
  const withoutCommand = (): CommandRun[] => {
    const shell = syntax.shellWithoutCommand;
    const startsShell = shell === 'always' || (shell !== undefined && shell.some((option) => seen.has(option)));
    return runs.length === 0 && startsShell ? [{ kind: 'stdin', via: SHELL_STDIN_VIA }] : runs;
  };
  if (syntax.operandsAreNotACommand) return withoutCommand();

  let position = syntax.operandsBefore ?? 0;
  // A skipped operand that splits into several words moves the command: timeout $T rm.
  const skipped = operands.slice(0, position).find((index) => args[index]?.splits);
  if (skipped !== undefined) return [...runs, { kind: 'unknown', words: args.slice(skipped), via: name }];
  if (syntax.assignments) {
    while (position < operands.length) {
      const word = args[operands[position] as number] as CommandWord;
      // NAME=… is an assignment even when its value is dynamic.
      if ((word.literal ?? word.prefix).indexOf('=') > 0) {
        position++;
        continue;
      }
      // "$X" or NAME$X here could be an assignment or the command: cannot tell.
      if (word.literal === null && /^([A-Za-z_][A-Za-z0-9_]*)?$/.test(word.prefix)) {
        return [...runs, { kind: 'unknown', words: args.slice(operands[position]), via: name }];
      }
      break;
    }
  }
  const start = operands[position];
  if (start === undefined) return withoutCommand();
  return [...runs, { kind: 'command', words: args.slice(start), via: name }];
}

/**
 * The environment a wrapper gives the command it runs: env's NAME=VALUE operands, -u and -i;
 * sudo's NAME=VALUE operands and -E; su -m/-p and -w; exec -c; xargs --process-slot-var. Options that cannot be read give nothing here:
 * the wrapper's command is then unknown, which policy denies.
 */
export function wrapperEnvironment(name: string, args: readonly CommandWord[]): EnvironmentDraft[] {
  const syntax = WRAPPERS[name];
  if (!syntax?.options || !['env', 'sudo', 'su', 'exec', 'xargs'].includes(name)) return [];
  const scan = scanOptions(args, syntax.options);
  if (!scan.ok) return [];
  const changes: EnvironmentDraft[] = [];
  for (const [option, value] of scan.occurrences) {
    const given = value?.literal ?? null;
    if (name === 'env' && (option === 'i' || option === '-' || option === '--ignore-environment')) changes.push(draft('*', 'env -i', { exported: true, unset: true }));
    else if (name === 'env' && (option === 'u' || option === '--unset')) changes.push(draft(given, 'env -u', { exported: true, unset: true }));
    // BSD env -P: the path the command is looked up in.
    else if (name === 'env' && option === 'P') changes.push(draft('PATH', 'env -P', { value: given, exported: true }));
    else if (name === 'sudo' && (option === 'E' || option === '--preserve-env')) changes.push(draft('*', 'sudo -E', { exported: true }));
    else if (name === 'exec' && option === 'c') changes.push(draft('*', 'exec -c', { exported: true, unset: true }));
    // xargs --process-slot-var=NAME exports NAME (a slot number) to every command it runs.
    else if (name === 'xargs' && option === '--process-slot-var') changes.push(draft(given, 'xargs --process-slot-var', { value: null, exported: true }));
    else if (name === 'su' && (option === 'm' || option === 'p' || option === '--preserve-environment')) changes.push(draft('*', 'su -m', { exported: true }));
    // su -w A,B: these variables pass into the login environment.
    else if (name === 'su' && (option === 'w' || option === '--whitelist-environment')) {
      for (const variable of given === null ? [null] : given.split(',')) changes.push(draft(variable, 'su -w', { exported: true }));
    }
  }
  if (syntax.assignments) {
    // As wrapperRuns reads them (and env does): every leading word with = after its first character sets one.
    for (const index of scan.operands) {
      const word = args[index] as CommandWord;
      const text = word.literal ?? word.prefix;
      const equals = text.indexOf('=');
      if (equals <= 0) break;
      // env has no +=: "A+=x" sets a variable named "A+".
      changes.push(draft(text.slice(0, equals), name, { value: word.literal === null ? null : text.slice(equals + 1), exported: true }));
    }
  }
  return changes;
}

/** find … -exec CMD … ; (or {} +), -execdir, -ok, -okdir: each may run a command. */
function findRuns(args: readonly CommandWord[]): CommandRun[] {
  const runs: CommandRun[] = [];
  const hasTerminatorAfter = (index: number): boolean =>
    args.slice(index + 1).some((word) => word.literal === null || word.literal === ';' || word.literal === '+');
  let index = 0;
  while (index < args.length) {
    const word = args[index] as CommandWord;
    if (word.literal !== null && FIND_EXEC_PRIMARIES.has(word.literal)) {
      const via = `find ${word.literal}`;
      let end = index + 1;
      while (end < args.length) {
        const text = args[end]?.literal;
        if (text === ';' || (text === '+' && args[end - 1]?.literal === '{}' && end > index + 1)) break;
        end++;
      }
      if (end > index + 1) runs.push({ kind: 'command', words: args.slice(index + 1, end), via });
      index = end + 1;
      continue;
    }
    // An expansion could itself produce "-exec …": unknown when it can split into words, or when
    // it could be the primary and a terminator follows.
    if (word.literal === null && (word.splits || (couldBeExecPrimary(word.prefix) && hasTerminatorAfter(index)))) {
      runs.push({ kind: 'unknown', words: args.slice(index), via: 'find -exec' });
      break;
    }
    index++;
  }
  return runs;
}

function couldBeExecPrimary(prefix: string): boolean {
  return [...FIND_EXEC_PRIMARIES].some((primary) => primary.startsWith(prefix) || prefix.startsWith(primary));
}

/** watch runs `sh -c` on its operands joined by spaces, or executes them directly with -x. */
function watchRuns(args: readonly CommandWord[]): CommandRun[] {
  const scan = scanOptions(args, WATCH_OPTIONS);
  if (!scan.ok) return [{ kind: 'unknown', words: args.slice(scan.at), via: 'watch' }];
  if (scan.seen.has('help') || scan.seen.has('--help') || scan.seen.has('--version')) return [];
  const words = scan.operands.map((index) => args[index] as CommandWord);
  if (words.length === 0) return [];
  if (scan.seen.has('x') || scan.seen.has('--exec')) return [{ kind: 'command', words, via: 'watch' }];
  const literals = words.map((word) => word.literal);
  const script = literals.every((literal): literal is string => literal !== null) ? literals.join(' ') : null;
  return [{ kind: 'script', script, via: 'watch' }];
}
