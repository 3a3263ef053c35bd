import { isObject } from '../jsonrpc/json-rpc-reader.ts';
import type { McpToolAnnotations } from './mcp-command.ts';

const HINTS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const;
const MAX_TITLE = 256;

/**
 * A tool's annotations as the server declared them, reduced to what the decision contract
 * carries: the four hints when they are booleans, the title when it is a string. Anything else a
 * server puts there is not policy's input (and would make the request undecidable).
 */
export function toolAnnotations(value: unknown): McpToolAnnotations | undefined {
  if (!isObject(value)) return undefined;
  const annotations: Record<string, string | boolean> = {};
  if (typeof value.title === 'string') annotations.title = value.title.slice(0, MAX_TITLE);
  for (const hint of HINTS) {
    if (typeof value[hint] === 'boolean') annotations[hint] = value[hint];
  }
  return Object.keys(annotations).length === 0 ? undefined : (annotations as McpToolAnnotations);
}
