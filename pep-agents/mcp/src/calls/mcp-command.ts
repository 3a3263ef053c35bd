import type { PepAction } from '@portcullis/pep-core';
import type { JsonRpcRequest } from '../jsonrpc/json-rpc-message.ts';

/** The `mcp` action of the decision contract: one MCP request as policy sees it. */
export type McpAction = Extract<PepAction, { type: 'mcp' }>;
export type McpMethod = McpAction['method'];
export type McpToolAnnotations = NonNullable<McpAction['annotations']>;

/** A `progressToken` an agent gave with its request (its `params._meta.progressToken`). */
export type ProgressToken = string | number;

/**
 * The gateway's unit of decision: one JSON-RPC request exactly as it will be sent (the agent's to
 * the server, or the server's to the agent), and the `mcp` action policy decides for it. The
 * request is the parsed message the gateway re-serialises; nothing else is forwarded.
 */
export interface McpCommand {
  /** The upstream server's name (the resource). */
  readonly server: string;
  readonly request: JsonRpcRequest;
  readonly action: McpAction;
  /** tools/call, resources/read, prompts/get: where the agent wants progress told (held approvals). */
  readonly progressToken?: ProgressToken;
}
