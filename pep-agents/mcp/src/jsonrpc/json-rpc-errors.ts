import { clientSafeText } from '@portcullis/pep-core';
import type { JsonRpcError, RequestId } from './json-rpc-message.ts';

/**
 * The error codes the gateway answers with: JSON-RPC's own, and a few of the implementation
 * range (-32000 to -32099) for what only a gateway says (policy refused, no decision, server gone).
 */
export const JSON_RPC_ERROR = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** Policy refused the request (a method other than tools/call, whose refusals are tool errors). */
  refused: -32010,
  /** The caller's credential was not accepted. */
  unauthenticated: -32011,
  /** The MCP server behind the gateway is not reachable, ended, or did not answer in time. */
  serverUnavailable: -32012,
} as const;

/** A JSON-RPC error answer whose message is fit to show a client (no tokens, bounded, no controls). */
export function jsonRpcError(id: RequestId | null | undefined, code: number, message: string, data?: unknown): JsonRpcError {
  return { jsonrpc: '2.0', id: id ?? null, error: { code, message: clientSafeText(message), ...(data === undefined ? {} : { data }) } };
}
