import type { CommandDescription } from '@portcullis/pep-core';
import type { McpCommand } from './mcp-command.ts';

/** How a request appears in the session record. This first version names the method and the tool, prompt or resource. */
export function describeCall(command: McpCommand): CommandDescription {
  const { action } = command;
  const target = action.tool ?? action.prompt ?? action.uri;
  return { text: target === undefined ? action.method : `${action.method} ${target}`, kind: action.method, method: action.method };
}
