import type { JsonRpcMessage, RequestId } from '../jsonrpc/json-rpc-message.ts';

/**
 * The agent's side of a session, whatever carries it (Streamable HTTP, stdio). A message sent
 * with `relatedRequestId` belongs to that agent request (HTTP: it goes on that request's stream).
 */
export interface AgentChannel {
  send(message: JsonRpcMessage, relatedRequestId?: RequestId): Promise<void>;
}
