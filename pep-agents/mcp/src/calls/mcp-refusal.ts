import type { JsonRpcErrorObject } from '../jsonrpc/json-rpc-message.ts';

/**
 * What an agent is shown when the gateway does not let a request through: a JSON-RPC error, or
 * for tools/call a refusal policy gave (denied, held for approval) as a tool result with
 * `isError: true`, the form MCP gives errors a model should read and act on.
 */
export type McpRefusal =
  | { readonly kind: 'error'; readonly error: JsonRpcErrorObject }
  | { readonly kind: 'tool-error'; readonly result: { readonly content: readonly { readonly type: 'text'; readonly text: string }[]; readonly isError: true } };

export function toolErrorRefusal(text: string): McpRefusal {
  return { kind: 'tool-error', result: { content: [{ type: 'text', text }], isError: true } };
}
