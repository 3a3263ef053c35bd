// Reading what the SDK client got back, for the server suites' assertions.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

type CallResult = Awaited<ReturnType<Client['callTool']>>;

/** The text parts of a tool result, joined (what a model reads). */
export function callText(result: CallResult): string {
  return (result.content as { type: string; text?: string }[]).map((part) => part.text ?? '').join('');
}

/** The JSON-RPC error a request was answered with (the SDK rejects with an McpError); fails if it succeeded. */
export async function rejection(request: Promise<unknown>): Promise<Error & { code: number }> {
  try {
    await request;
  } catch (error) {
    return error as Error & { code: number };
  }
  throw new Error('the request succeeded; a JSON-RPC error was expected');
}
