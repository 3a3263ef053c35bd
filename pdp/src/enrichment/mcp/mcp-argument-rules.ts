/**
 * Which arguments of which MCP tools hold SQL, shell commands or paths, as the active policy
 * bundle's data names them (`data.portcullis.mcp_rules.tool_arguments`):
 *
 *   { "<server resource name, or *>": { "<tool>": { "<argument>": "sql" | "shell" | "path" } } }
 *
 * A server's own entry for a tool wins over the `*` entry, argument by argument. A kind this PDP
 * does not know is left out here: the policy, which sees the kinds its data names, denies a call
 * whose named argument has no analysis.
 */
import { MCP_ARGUMENT_KINDS, type McpArgumentKind } from './mcp-facts.ts';

/** The argument kinds policy data names for one tool of one server. */
export interface McpArgumentRules {
  kindsFor(server: string, tool: string): ReadonlyMap<string, McpArgumentKind>;
}

type ToolArguments = ReadonlyMap<string, ReadonlyMap<string, ReadonlyMap<string, McpArgumentKind>>>;

const NOTHING: ReadonlyMap<string, McpArgumentKind> = new Map();

/** The rules a bundle's data holds; the active ones change with each activation. */
export class BundleMcpArgumentRules implements McpArgumentRules {
  #rules: ToolArguments = new Map();

  /** Takes the rules of a bundle that became active (its data merged from every data.json). */
  update(bundleData: Record<string, unknown>): void {
    this.#rules = readToolArguments(bundleData);
  }

  kindsFor(server: string, tool: string): ReadonlyMap<string, McpArgumentKind> {
    const any = this.#rules.get('*')?.get(tool);
    const own = this.#rules.get(server)?.get(tool);
    if (own === undefined) return any ?? NOTHING;
    if (any === undefined) return own;
    return new Map([...any, ...own]);
  }
}

/** `data.portcullis.mcp_rules.tool_arguments`, keeping what has the documented shape. */
export function readToolArguments(bundleData: Record<string, unknown>): ToolArguments {
  const table = objectAt(objectAt(objectAt(bundleData, 'portcullis'), 'mcp_rules'), 'tool_arguments');
  const servers = new Map<string, Map<string, Map<string, McpArgumentKind>>>();
  for (const [server, tools] of Object.entries(table)) {
    const byTool = new Map<string, Map<string, McpArgumentKind>>();
    for (const [tool, args] of Object.entries(asObject(tools))) {
      const kinds = new Map<string, McpArgumentKind>();
      for (const [name, kind] of Object.entries(asObject(args))) if (isKind(kind)) kinds.set(name, kind);
      byTool.set(tool, kinds);
    }
    servers.set(server, byTool);
  }
  return servers;
}

function isKind(value: unknown): value is McpArgumentKind {
  return typeof value === 'string' && (MCP_ARGUMENT_KINDS as readonly string[]).includes(value);
}

function objectAt(value: Record<string, unknown>, key: string): Record<string, unknown> {
  return asObject(value[key]);
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
