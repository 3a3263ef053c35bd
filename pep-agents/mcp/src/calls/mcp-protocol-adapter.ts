import { clientSafeText, type CommandDescription, type GateRefusal, type PepAction, type ProtocolAdapter } from '@portcullis/pep-core';
import { JSON_RPC_ERROR } from '../jsonrpc/json-rpc-errors.ts';
import type { ResultMasker } from '../results/result-masker.ts';
import { describeCall } from './call-description.ts';
import type { McpCommand } from './mcp-command.ts';
import type { McpMask } from './mcp-masks.ts';
import { toolErrorRefusal, type McpRefusal } from './mcp-refusal.ts';

/**
 * The MCP side of the command gate: a request becomes the `mcp` action of exactly the message
 * forwarded; a refusal becomes what an MCP client shows. A tools/call policy refused (denied, not
 * approved, held) is a tool error whose text names the reasons, so the model reads why and what
 * to do; a request that could not be decided at all (PDP away, record not keeping up) is a
 * JSON-RPC error, as is any refusal of another method.
 */
export class McpProtocolAdapter implements ProtocolAdapter<McpCommand, McpRefusal, McpMask> {
  constructor(private readonly masker: Pick<ResultMasker, 'canMask'>) {}

  action(command: McpCommand): PepAction {
    return command.action;
  }

  describe(command: McpCommand): CommandDescription {
    return describeCall(command);
  }

  /**
   * A tools/call or resources/read is keyed on its whole action, exactly: an allow the PDP granted
   * reuse for stands only for the very same call again (same tool, arguments and annotations, or
   * the same URI) in the same session. Everything else is decided every time.
   */
  reuseShape(command: McpCommand): string | undefined {
    const { method } = command.action;
    return method === 'tools/call' || method === 'resources/read' ? JSON.stringify(command.action) : undefined;
  }

  canMask(masks: readonly McpMask[], command: McpCommand): boolean {
    return this.masker.canMask(masks, command);
  }

  refuse(refusal: GateRefusal<McpMask>, command: McpCommand): McpRefusal {
    const toolCall = command.action.method === 'tools/call';
    switch (refusal.reason) {
      case 'record-unavailable':
        return error(JSON_RPC_ERROR.internalError, 'portcullis: the session record is not keeping up, so nothing is forwarded; try again shortly');
      case 'token-expired':
        return error(JSON_RPC_ERROR.unauthenticated, `portcullis: the token has expired [decision ${refusal.answer.decision_id}]`);
      case 'masking-unavailable': {
        const text = `portcullis: policy allows this only with masking this gateway cannot apply to it [decision ${refusal.answer.decision_id}]`;
        return toolCall ? toolErrorRefusal(text) : error(JSON_RPC_ERROR.refused, text);
      }
      case 'decision': {
        const { refusal: why, answer } = refusal;
        if (why.kind === 'unavailable') return error(JSON_RPC_ERROR.internalError, why.message);
        if (why.kind === 'unauthenticated') return error(JSON_RPC_ERROR.unauthenticated, why.message);
        let text = why.message;
        if (why.kind === 'approval-pending') {
          // The model reads this and can tell the person where to approve, then call again.
          const consoleUrl = answer.approval?.console_url;
          const again = toolCall ? 'call the same tool with the same arguments again once approved' : 'send the same request again once approved';
          text = clientSafeText([why.message, consoleUrl ? `approve at ${consoleUrl}` : undefined, why.hint, again].filter(Boolean).join('; '));
        }
        return toolCall ? toolErrorRefusal(text) : error(JSON_RPC_ERROR.refused, text);
      }
    }
  }
}

function error(code: number, message: string): McpRefusal {
  return { kind: 'error', error: { code, message: clientSafeText(message) } };
}
