import type { JsonRpcRequest, JsonRpcResponse, RequestId } from '../jsonrpc/json-rpc-message.ts';
import type { AgentChannel } from './agent-channel.ts';

/**
 * Requests the server sent the agent (sampling, elicitation, roots), passed on and waiting for the
 * agent's answer by their id, each within a bound: an agent that never answers does not hold the
 * server's request forever.
 */
export class AgentRequests {
  private readonly waiting = new Map<RequestId, (response: JsonRpcResponse) => void>();

  constructor(
    private readonly channel: AgentChannel,
    private readonly timeoutMs: number,
  ) {}

  /** Sends the request to the agent (beside the agent request it belongs with) and waits for its answer. */
  ask(request: JsonRpcRequest, relatedRequestId: RequestId | undefined): Promise<JsonRpcResponse> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(request.id);
        reject(new Error('the client did not answer in time'));
      }, this.timeoutMs);
      this.waiting.set(request.id, (response) => {
        clearTimeout(timer);
        this.waiting.delete(request.id);
        resolve(response);
      });
      this.channel.send(request, relatedRequestId).catch((error: unknown) => {
        clearTimeout(timer);
        this.waiting.delete(request.id);
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  /** An answer from the agent: it settles the request of that id (an answer to nothing asked is dropped). */
  answer(response: JsonRpcResponse): void {
    this.waiting.get(response.id ?? '')?.(response);
  }
}
