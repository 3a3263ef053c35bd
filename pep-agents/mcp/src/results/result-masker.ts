import type { AnyDecisionAnswer, MaskStrategyRegistry } from '@portcullis/pep-core';
import { maskContentBlock, maskResourceContents } from './content-block-masking.ts';
import { knownMembers, MEMBERS } from './known-members.ts';
import { hasObligations, maskingPlan, masksAnything, masksSupported } from './masking-plan.ts';
import type { McpMask } from '../calls/mcp-masks.ts';
import { isMaskableMethod } from './maskable-methods.ts';
import { ResultValueMasking } from './result-value-masking.ts';
import { maskServerError, maskServerNotification, type JsonRpcErrorObject, type ServerNotification } from './server-message-masking.ts';
import { UnreadableResultError } from './unreadable-result-error.ts';

type Json = Record<string, unknown>;

/** A result as the client is sent it, and how many values were hidden in it. */
export interface MaskedResult {
  readonly result: Record<string, unknown>;
  readonly masked: number;
}

export interface ResultMaskerOptions {
  /** The mask strategies (redact, partial, hash, null) the obligations name. */
  readonly strategies: MaskStrategyRegistry;
}

/**
 * Masks what a decided call sends back under its answer's obligations:
 * - `tools/call`: `structuredContent` by the JSON paths, then the detectors on its strings; each
 *   `content` block as content-block-masking.ts says (text that is JSON masked as structured data
 *   and written again, other text scrubbed by the detectors, withheld under paths; images, audio,
 *   blobs withheld under any obligation; resource links as they are);
 * - `resources/read`: each of `contents` (text as above, blobs withheld under any obligation);
 * - `prompts/get`: the content of each of `messages`.
 * JSON paths name values in the structured result (`structuredContent`, or the JSON a text block
 * holds), not in the JSON-RPC result around it: `$.rows[*].email`. Members MCP does not define
 * are dropped from what is masked (known-members.ts).
 * A result not in its method's shape that must be masked is refused (UnreadableResultError).
 */
export class ResultMasker {
  private readonly strategies: MaskStrategyRegistry;

  constructor(options: ResultMaskerOptions) {
    this.strategies = options.strategies;
  }

  /**
   * Whether this gateway can honour these obligations on the result of a call of this method:
   * only the kinds it enforces (json-path, byte-stream) with paths and detectors it reads, and
   * only for methods whose results carry data. The gate refuses the call otherwise.
   */
  canMask(masks: readonly McpMask[], command: { readonly action: { readonly method: string } }): boolean {
    if (masks.length === 0) return true;
    return isMaskableMethod(command.action.method) && masksSupported(masks);
  }

  mask(method: string, result: Json, answer: Pick<AnyDecisionAnswer, 'obligations'>): MaskedResult {
    if (!isMaskableMethod(method)) return { result, masked: 0 };
    const plan = maskingPlan(answer, this.strategies);
    if (!masksAnything(plan)) return { result, masked: 0 };
    const masking = new ResultValueMasking(plan);
    const withObligations = hasObligations(plan);
    if (!isObject(result)) throw new UnreadableResultError(method, 'not an object');
    let masked: Json;
    switch (method) {
      case 'tools/call':
        masked = maskToolResult(result, masking, withObligations);
        break;
      case 'resources/read':
        masked = {
          ...knownMembers(result, MEMBERS.readResult, masking),
          contents: eachOf(result.contents, method, 'contents', (item) => (isObject(item) ? maskResourceContents(item, masking, withObligations) : undefined)),
        };
        break;
      case 'prompts/get':
        masked = {
          ...knownMembers(result, MEMBERS.promptResult, masking),
          messages: eachOf(result.messages, method, 'messages', (message) => maskPromptMessage(message, masking, withObligations)),
        };
        break;
    }
    return { result: masked, masked: masking.masked };
  }

  /**
   * The server's JSON-RPC error for a call, as the client may see it and the record may keep it:
   * withheld under JSON paths, scrubbed under detectors (see server-message-masking.ts).
   */
  maskError(error: JsonRpcErrorObject, answer: Pick<AnyDecisionAnswer, 'obligations'>): { readonly error: JsonRpcErrorObject; readonly masked: number } {
    return maskServerError(error, maskingPlan(answer, this.strategies));
  }

  /**
   * Anything else a server sends the agent in a session whose decisions asked for masking (an
   * answer the gateway relays undecided, such as resources/list; the params of a request the
   * server sends the agent): every string through the detectors. JSON paths name values in a
   * call's result, so they do not apply here.
   */
  maskServerValue<T>(value: T, answer: Pick<AnyDecisionAnswer, 'obligations'>): { readonly value: T; readonly masked: number } {
    const plan = maskingPlan(answer, this.strategies);
    if (!masksAnything(plan)) return { value, masked: 0 };
    const masking = new ResultValueMasking(plan);
    return { value: masking.scrubValue(value) as T, masked: masking.masked };
  }

  /**
   * A notification the server sends while a call runs (log lines, progress messages), masked
   * under that call's answer. With several calls running, the gateway passes the notification
   * through each of their answers in turn.
   */
  maskNotification<N extends ServerNotification>(notification: N, answer: Pick<AnyDecisionAnswer, 'obligations'>): { readonly notification: N; readonly masked: number } {
    return maskServerNotification(notification, maskingPlan(answer, this.strategies));
  }
}

function maskToolResult(result: Json, masking: ResultValueMasking, withObligations: boolean): Json {
  const masked: Json = { ...knownMembers(result, MEMBERS.toolResult, masking), content: eachOf(result.content, 'tools/call', 'content', (block) => maskContentBlock(block, masking, withObligations)) };
  if (result.structuredContent !== undefined) {
    if (!isObject(result.structuredContent)) throw new UnreadableResultError('tools/call', 'structuredContent is not an object');
    masked.structuredContent = masking.structured(result.structuredContent);
  }
  return masked;
}

function maskPromptMessage(message: unknown, masking: ResultValueMasking, withObligations: boolean): unknown {
  if (!isObject(message)) return undefined;
  const content = maskContentBlock(message.content, masking, withObligations);
  if (content === undefined) return undefined;
  return { ...knownMembers(message, MEMBERS.promptMessage, masking), content };
}

function eachOf(items: unknown, method: string, member: string, maskItem: (item: unknown) => unknown): unknown[] {
  if (!Array.isArray(items)) throw new UnreadableResultError(method, `${member} is not a list`);
  return items.map((item, index) => {
    const masked = maskItem(item);
    if (masked === undefined) throw new UnreadableResultError(method, `${member}[${index}] is not of a kind the gateway reads`);
    return masked;
  });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
