/** The enriched MCP action of docs/policy-input.md (`action.type == "mcp"`). */
import type { ActionV1 } from '@portcullis/contract';
import type { EnrichedShellAction } from '../shell/shell-command.ts';
import type { EnrichedSqlAction } from '../sql/sql-facts.ts';

type McpAction = Extract<ActionV1, { type: 'mcp' }>;

/** The kinds of tool argument policy data can name for analysis. */
export const MCP_ARGUMENT_KINDS = ['sql', 'shell', 'path'] as const;
export type McpArgumentKind = (typeof MCP_ARGUMENT_KINDS)[number];

/** A SQL argument: what the SQL analyzer finds in it, as for a statement sent through the Postgres PEP. */
export type McpSqlArgument = { kind: 'sql' } & Omit<EnrichedSqlAction, 'type'>;

/** A shell argument: what the shell analyzer finds in it, as for a command sent through the SSH PEP. */
export type McpShellArgument = { kind: 'shell' } & Omit<EnrichedShellAction, 'type'>;

/** A path argument (one path or several): each normalised as a file action's path is. */
export type McpPathArgument = {
  kind: 'path';
  /** The normalised paths, in the order sent; empty when one cannot be read. */
  paths: string[];
  parse_error: string | null;
};

/** A named argument that is missing or of the wrong type: nothing could be analysed, policy denies it. */
export type McpUnreadableArgument = { kind: McpArgumentKind; parse_error: string };

export type McpArgumentAnalysis = McpSqlArgument | McpShellArgument | McpPathArgument | McpUnreadableArgument;

// A type, not an interface: it is also a plain JSON record (audit, approvals).
export type EnrichedMcpAction = McpAction & {
  /** tools/call: per argument that policy data names, what its analyzer found. */
  argument_analysis?: Record<string, McpArgumentAnalysis>;
};
