/**
 * An MCP request as policy sees it. For tools/call, each argument the active policy data names
 * is read by the analyzer its kind calls for, the same ones the Postgres and SSH PEPs' commands
 * go through, so a tool call meets the rules the same action would meet through those PEPs:
 *  - sql: the SQL analyzer; its text with credentials redacted also replaces the argument in
 *    `arguments`, so neither policy input nor any record holds the secret;
 *  - shell: the shell analyzer;
 *  - path: one path or an array of them, each normalised as a file operation's path (absolute,
 *    no `..`, nothing through /proc): the server's idea of a relative path is not the PDP's.
 * A named argument that is absent, of another type, or unreadable carries a parse_error, which
 * the policy denies.
 */
import type { ActionV1 } from '@portcullis/contract';
import { readHostPath } from '../file/host-path.ts';
import type { ShellAnalyzer } from '../shell-analyzer.ts';
import type { SqlAnalyzer } from '../sql-analyzer.ts';
import type { McpArgumentRules } from './mcp-argument-rules.ts';
import type { EnrichedMcpAction, McpArgumentAnalysis, McpArgumentKind, McpPathArgument } from './mcp-facts.ts';

type McpAction = Extract<ActionV1, { type: 'mcp' }>;

/** Most paths one path argument may name. */
const MAX_PATHS = 256;

export interface McpAnalyzers {
  readonly rules: McpArgumentRules;
  readonly sql: SqlAnalyzer;
  readonly shell: ShellAnalyzer;
}

export async function enrichMcpAction(action: McpAction, server: string, analyzers: McpAnalyzers): Promise<EnrichedMcpAction> {
  const copy: EnrichedMcpAction = structuredClone(action);
  if (action.method !== 'tools/call' || action.tool === undefined) return copy;
  const kinds = analyzers.rules.kindsFor(server, action.tool);
  if (kinds.size === 0) return copy;
  const sent = action.arguments ?? {};
  const analysis: Array<[string, McpArgumentAnalysis]> = [];
  const redacted = new Map<string, string>();
  for (const [name, kind] of kinds) {
    const value = Object.hasOwn(sent, name) ? sent[name] : undefined;
    const result = await analyse(kind, name, value, analyzers);
    analysis.push([name, result]);
    // The redacted text stands for the argument everywhere after this point (policy, audit, approval card).
    if (result.kind === 'sql' && 'sql' in result && typeof value === 'string' && result.sql !== value) redacted.set(name, result.sql);
  }
  // Built from entries, so every name (even __proto__) is an own member, as in the JSON sent.
  const recorded = copy.arguments === undefined ? undefined : Object.fromEntries(Object.entries(copy.arguments).map(([name, value]) => [name, redacted.get(name) ?? value]));
  return { ...copy, ...(recorded === undefined ? {} : { arguments: recorded }), argument_analysis: Object.fromEntries(analysis) };
}

async function analyse(kind: McpArgumentKind, name: string, value: unknown, analyzers: McpAnalyzers): Promise<McpArgumentAnalysis> {
  if (value === undefined) return { kind, parse_error: `argument ${name} is missing` };
  switch (kind) {
    case 'sql': {
      if (typeof value !== 'string') return { kind, parse_error: `argument ${name} is not a string` };
      const { type: _sql, ...facts } = analyzers.sql.analyze(value);
      return { kind, ...facts };
    }
    case 'shell': {
      if (typeof value !== 'string') return { kind, parse_error: `argument ${name} is not a string` };
      const { type: _shell, ...facts } = await analyzers.shell.analyze(value);
      return { kind, ...facts };
    }
    case 'path':
      return readPaths(name, value);
  }
}

function readPaths(name: string, value: unknown): McpPathArgument {
  const refused = (problem: string): McpPathArgument => ({ kind: 'path', paths: [], parse_error: `argument ${name} ${problem}` });
  const sent = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(sent) || !sent.every((path): path is string => typeof path === 'string')) return refused('is not a path or an array of paths');
  if (sent.length === 0) return refused('names no path');
  if (sent.length > MAX_PATHS) return refused(`names more than ${MAX_PATHS} paths`);
  const paths: string[] = [];
  for (const [index, path] of sent.entries()) {
    const reading = readHostPath(path, undefined);
    // Named by position: the text may be long or unprintable.
    if (!reading.ok) return refused(`${sent.length === 1 ? 'path' : `path ${index + 1}`} ${reading.problem}`);
    paths.push(reading.path);
  }
  return { kind: 'path', paths, parse_error: null };
}
