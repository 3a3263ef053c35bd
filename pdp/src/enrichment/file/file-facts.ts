/** The enriched file action of docs/policy-input.md (`action.type == "file"`). */
import type { ActionV1 } from '@portcullis/contract';

type FileAction = Extract<ActionV1, { type: 'file' }>;

// A type, not an interface: it is also a plain JSON record (audit, approvals).
export type EnrichedFileAction = Omit<FileAction, 'cwd'> & {
  /** The paths as the PEP sent them; `path` and `target_path` above are the host's (normalised). */
  as_sent: { path: string; target_path?: string; cwd?: string };
  /** Every normalised path the operation names: path, then target_path. */
  paths: string[];
  /** A string when a path cannot be read canonically: policy denies it. */
  parse_error: string | null;
};
