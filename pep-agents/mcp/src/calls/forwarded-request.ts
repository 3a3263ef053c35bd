import type { JsonRpcRequest } from '../jsonrpc/json-rpc-message.ts';
import type { McpCommand } from './mcp-command.ts';

/**
 * The request a decided command sends the server, built from its decided action and nothing
 * else: the tool or prompt and its arguments, or the resource URI, and the agent's progress token.
 * Any other member of the agent's params (an alias of an argument, a task request, `_meta`
 * entries) was never policy's input, so it does not reach the server either.
 */
export function forwardedRequest(command: McpCommand): JsonRpcRequest {
  const { request, action, progressToken } = command;
  const meta = progressToken === undefined ? {} : { _meta: { progressToken } };
  const args = action.arguments === undefined ? {} : { arguments: action.arguments };
  switch (action.method) {
    case 'tools/call':
      return { jsonrpc: '2.0', id: request.id, method: action.method, params: { name: action.tool, ...args, ...meta } };
    case 'prompts/get':
      return { jsonrpc: '2.0', id: request.id, method: action.method, params: { name: action.prompt, ...args, ...meta } };
    case 'resources/read':
      return { jsonrpc: '2.0', id: request.id, method: action.method, params: { uri: action.uri, ...meta } };
    default:
      throw new Error(`${action.method} is not a request the agent's side decides and forwards`);
  }
}
