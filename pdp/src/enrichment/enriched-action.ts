/**
 * The action as policy sees it (docs/policy-input.md): per type, the request's fields plus the
 * structure a real parser found in them. One union, so every reader narrows by `type` and gets
 * the typed facts, never a cast.
 */
import type { ActionV1 } from '@portcullis/contract';
import type { EnrichedFileAction } from './file/file-facts.ts';
import type { KubernetesActionFacts } from './kubernetes/kubernetes-facts.ts';
import type { KubernetesRequestInfo } from './kubernetes-request-info.ts';
import type { EnrichedMcpAction as EnrichedMcpActionFacts } from './mcp/mcp-facts.ts';
import type { EnrichedNetworkAction } from './network/network-facts.ts';
import type { EnrichedShellAction } from './shell/shell-command.ts';
import type { EnrichedSqlAction } from './sql/sql-facts.ts';

export type { EnrichedFileAction } from './file/file-facts.ts';
export type { EnrichedNetworkAction } from './network/network-facts.ts';
export type { EnrichedShellAction } from './shell/shell-command.ts';
export type { EnrichedSqlAction } from './sql/sql-facts.ts';

/** The API request as sent, with the verb, resource and names the Kubernetes API server would read, and what it writes or runs. */
export type EnrichedKubernetesAction = Extract<ActionV1, { type: 'kubernetes' }> & { request: KubernetesRequestInfo } & KubernetesActionFacts;

/** The call as sent, credential headers redacted. */
export type EnrichedHttpAction = Extract<ActionV1, { type: 'http' }>;

/** A session being opened, as the client sent its startup details (for SSH: the login name, the channel request, PTY, subsystem). */
export type EnrichedConnectAction = Extract<ActionV1, { type: 'connect' }>;

/** An MCP request as the gateway will send it; the arguments policy data names are analysed in `argument_analysis`. */
export type EnrichedMcpAction = EnrichedMcpActionFacts;

export type EnrichedAction = EnrichedSqlAction | EnrichedShellAction | EnrichedKubernetesAction | EnrichedHttpAction | EnrichedConnectAction | EnrichedFileAction | EnrichedNetworkAction | EnrichedMcpAction;
