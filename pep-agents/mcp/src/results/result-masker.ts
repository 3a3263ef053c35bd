import type { DecisionAnswer, MaskStrategyRegistry } from '@portcullis/pep-core';
import type { McpMask } from '../calls/mcp-masks.ts';
import type { McpCommand, McpMethod } from '../calls/mcp-command.ts';
import type { JsonRpcErrorObject, JsonRpcNotification } from '../jsonrpc/json-rpc-message.ts';

/** A result as it goes back to the agent, and how many values the masks replaced. */
export interface MaskedResult {
  readonly result: Record<string, unknown>;
  readonly masked: number;
}

/**
 * Applies a decision's mask obligations to what a server answered (tool results, resource
 * contents, prompt messages) before the agent sees it. This first version takes no masks at all:
 * an answer that asks for any is refused before the request runs (fail closed), so a result
 * passes untouched only when nothing was to be masked.
 */
export interface ResultMaskerOptions {
  /** The mask strategies (redact, partial, hash, null) the obligations name. */
  readonly strategies: MaskStrategyRegistry;
}

export class ResultMasker {
  constructor(readonly options: ResultMaskerOptions) {}

  canMask(masks: readonly McpMask[], _command: McpCommand): boolean {
    return masks.length === 0;
  }

  mask(_method: McpMethod, result: Record<string, unknown>, _answer: DecisionAnswer<McpMask>): MaskedResult {
    return { result, masked: 0 };
  }

  /** The server's JSON-RPC error for a decided call, as the agent may see it (no masks here: as it came). */
  maskError(error: JsonRpcErrorObject, _answer: DecisionAnswer<McpMask>): { readonly error: JsonRpcErrorObject; readonly masked: number } {
    return { error, masked: 0 };
  }

  /** A notification the server sends while a decided call runs (log lines, progress), under that call's answer. */
  maskNotification(notification: JsonRpcNotification, _answer: DecisionAnswer<McpMask>): { readonly notification: JsonRpcNotification; readonly masked: number } {
    return { notification, masked: 0 };
  }
}
