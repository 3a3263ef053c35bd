import type { CommandDescription } from '@portcullis/pep-core';
import { redactArguments, redactSecretShapes } from './argument-redaction.ts';

/** What of a decided MCP action its session entry names (the contract's McpActionV1, read structurally). */
export interface DescribedMcpAction {
  readonly method: string;
  readonly tool?: string;
  readonly arguments?: Record<string, unknown>;
  readonly uri?: string;
  readonly prompt?: string;
  readonly direction?: 'to_client' | 'to_server';
}

const KINDS: Readonly<Record<string, string>> = {
  'tools/call': 'tool',
  'resources/read': 'resource',
  'prompts/get': 'prompt',
  'tools/list': 'list',
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/**
 * A call as its session entry shows it: `tools/call query_db {"sql":"select … where email = '[redacted]'"}`,
 * `resources/read file:///etc/app.conf`, `prompts/get summarise {"topic":"…"}`, with what may be
 * a secret redacted (see argument-redaction.ts); kind tool/resource/prompt; the method; the
 * tool, resource URI or prompt as the path, so the Sessions view can group by them.
 */
export function describeCall(command: { readonly action: DescribedMcpAction }): CommandDescription {
  const { action } = command;
  const kind = KINDS[action.method] ?? 'other';
  switch (action.method) {
    case 'tools/call':
      return { text: withArguments(`tools/call ${action.tool ?? ''}`, action.arguments), kind, method: action.method, ...(action.tool ? { path: action.tool } : {}) };
    case 'prompts/get':
      return { text: withArguments(`prompts/get ${action.prompt ?? ''}`, action.arguments), kind, method: action.method, ...(action.prompt ? { path: action.prompt } : {}) };
    case 'resources/read': {
      const uri = action.uri === undefined ? undefined : redactSecretShapes(action.uri);
      return { text: `resources/read ${uri ?? ''}`.trimEnd(), kind, method: action.method, ...(uri ? { path: uri } : {}) };
    }
    default:
      // A request the server sends the agent names only its method: its params are the agent's to see.
      return { text: action.direction === 'to_client' ? `${action.method} (server to client)` : action.method, kind, method: action.method };
  }
}

function withArguments(head: string, args: Record<string, unknown> | undefined): string {
  if (args === undefined || Object.keys(args).length === 0) return head.trimEnd();
  return `${head} ${JSON.stringify(redactArguments(args))}`;
}
