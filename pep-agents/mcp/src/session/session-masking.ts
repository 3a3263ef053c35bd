import { JSON_RPC_ERROR, jsonRpcError } from '../jsonrpc/json-rpc-errors.ts';
import { isObject } from '../jsonrpc/json-rpc-reader.ts';
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../jsonrpc/json-rpc-message.ts';
import type { ResultMasker } from '../results/result-masker.ts';
import type { StandingMasks } from './standing-masks.ts';

/**
 * What the server sends beside a decided call's result (notifications, relayed answers, its
 * requests to the agent), under every masking the session's decisions asked for.
 */
export class SessionMasking {
  constructor(
    private readonly standing: StandingMasks,
    private readonly masker: ResultMasker,
  ) {}

  /**
   * A server notification under every masking the session's decisions asked for, whenever it
   * comes (a log line sent after the call it quotes was answered is still masked); undefined when
   * it is not passed on at all.
   */
  notification(notification: JsonRpcNotification): JsonRpcNotification | undefined {
    if (this.standing.exceeded && (notification.method === 'notifications/message' || notification.method === 'notifications/progress')) return undefined;
    let masked = notification;
    for (const answer of this.standing.answers) masked = this.masker.maskNotification(masked, answer).notification;
    return masked;
  }

  /** An answer the gateway relays undecided (resources/list, completion/complete …), its strings under the session's maskings. */
  relayed(response: JsonRpcResponse): JsonRpcResponse {
    if (this.standing.exceeded) return jsonRpcError(response.id, JSON_RPC_ERROR.internalError, 'portcullis: the answer is withheld: the session asked for more maskings than the gateway keeps');
    if ('error' in response) {
      let error = response.error;
      for (const answer of this.standing.answers) error = this.masker.maskError(error, answer).error;
      return { ...response, error };
    }
    let result = response.result;
    for (const answer of this.standing.answers) result = this.masker.maskServerValue(result, answer).value;
    return { ...response, result };
  }

  /** A request the server sends the agent (its decision saw it as sent), its text under the session's maskings. */
  serverRequest(request: JsonRpcRequest): JsonRpcRequest {
    if (request.params === undefined) return request;
    let params = request.params;
    for (const answer of this.standing.answers) params = this.masker.maskServerValue(params, answer).value;
    return { ...request, params };
  }

  /** A text the server wrote, under the session's maskings. */
  text(text: string): string {
    let masked = text;
    for (const answer of this.standing.answers) masked = this.masker.maskServerValue(masked, answer).value;
    return masked;
  }

  /** A listed tool's description and titles under the session's maskings; its name and schemas stay as listed (they are how it is called). */
  toolText(tool: unknown): unknown {
    if (!isObject(tool)) return tool;
    const masked: Record<string, unknown> = { ...tool };
    if (typeof tool.description === 'string') masked.description = this.text(tool.description);
    if (typeof tool.title === 'string') masked.title = this.text(tool.title);
    if (isObject(tool.annotations) && typeof tool.annotations.title === 'string') masked.annotations = { ...tool.annotations, title: this.text(tool.annotations.title) };
    return masked;
  }
}
