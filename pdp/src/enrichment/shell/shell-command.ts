/** The enriched shell action of docs/policy-input.md (`action.type == "shell"`). */
import type { EnvironmentChange } from './environment-change.ts';

export interface ShellRedirect {
  /** The operator with its file descriptor, as written: ">", ">>", "<", "2>", "2>&", "&>", ">|", "<<<", "<<" … */
  op: string;
  /** The target after quote removal (a here-document's delimiter); null when dynamic. */
  target: string | null;
}

export interface ShellCommand {
  /** The basename of path. */
  name: string;
  /** The command word as written, after quote removal (its source text when dynamic). */
  path: string;
  /** Literal words after quote removal; a dynamic word is null. */
  args: (string | null)[];
  /** The command name is built at run time ($X, $(…), globs, brace expansion) or cannot be told. */
  dynamic_name: boolean;
  pipeline: number;
  pipeline_position: number;
  pipeline_length: number;
  /** The wrapper or shell string it came from: "sudo", "sh -c", "$(…)" …; null at top level. */
  via: string | null;
  redirects: ShellRedirect[];
}

// A type, not an interface: it is also a plain JSON record (audit, approvals).
export type EnrichedShellAction = {
  type: 'shell';
  command: string;
  /** A string when the command could not be analysed: policy denies it. */
  parse_error: string | null;
  commands: ShellCommand[];
  /** Every variable the text sets, exports or removes, by any route. */
  environment: EnvironmentChange[];
};
