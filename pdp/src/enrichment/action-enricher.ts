import type { ActionV1, ResourceV1 } from '@portcullis/contract';
import type { EnrichedAction } from './enriched-action.ts';
import { enrichFileAction } from './file/file-action-reader.ts';
import { enrichKubernetesAction } from './kubernetes/kubernetes-action-reader.ts';
import { enrichMcpAction } from './mcp/mcp-action-reader.ts';
import type { McpArgumentRules } from './mcp/mcp-argument-rules.ts';
import { enrichNetworkAction } from './network/network-action-reader.ts';
import { createShellAnalyzer, type ShellAnalyzer } from './shell-analyzer.ts';
import { createSqlAnalyzer, type SqlAnalyzer } from './sql-analyzer.ts';

export type { EnrichedAction } from './enriched-action.ts';

/** No tool argument named for analysis: what an enricher knows before a policy bundle is active. */
const NO_MCP_ARGUMENT_RULES: McpArgumentRules = { kindsFor: () => new Map() };

/**
 * Parses every action with a real parser before policy sees it, so no rule parses strings.
 * Anything a parser rejects carries `parse_error`, which the policy denies.
 */
export class ActionEnricher {
  private constructor(
    private readonly sql: SqlAnalyzer,
    private readonly shell: ShellAnalyzer,
    private readonly mcpArguments: McpArgumentRules,
  ) {}

  /** The SQL analyzer, for analysis outside a decision (POST /v1/sql/outputs). */
  get sqlAnalyzer(): SqlAnalyzer {
    return this.sql;
  }

  /** `mcpArguments`: which MCP tool arguments the active policy data names for analysis. */
  static async create(options: { mcpArguments?: McpArgumentRules } = {}): Promise<ActionEnricher> {
    const [sql, shell] = await Promise.all([createSqlAnalyzer(), createShellAnalyzer()]);
    return new ActionEnricher(sql, shell, options.mcpArguments ?? NO_MCP_ARGUMENT_RULES);
  }

  /** `resource`: the request's resource (an MCP server's rules are named by it). */
  async enrich(action: ActionV1, resource?: Pick<ResourceV1, 'name'>): Promise<EnrichedAction> {
    switch (action.type) {
      case 'sql':
        // Bound values pass as sent: policy and the approver see what one execution will run with.
        return { ...this.sql.analyze(action.sql), ...(action.parameters ? { parameters: action.parameters.map((parameter) => ({ ...parameter })) } : {}) };
      case 'shell':
        return { ...(await this.shell.analyze(action.command)) };
      case 'kubernetes':
        return enrichKubernetesAction(action, this.shell);
      case 'http':
        return { ...action, ...(action.headers ? { headers: redactCredentials(action.headers) } : {}) };
      case 'connect':
        return { ...action };
      case 'file':
        return enrichFileAction(action);
      case 'network':
        return enrichNetworkAction(action);
      case 'mcp':
        return enrichMcpAction(action, resource?.name ?? '', { rules: this.mcpArguments, sql: this.sql, shell: this.shell });
    }
  }
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token']);

// Credentials must not reach policy input or the audit trail; their presence still shows.
function redactCredentials(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    result[name.toLowerCase()] = CREDENTIAL_HEADERS.has(name.toLowerCase()) ? '[redacted]' : value;
  }
  return result;
}
