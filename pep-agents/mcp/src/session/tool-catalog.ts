import { isObject } from '../jsonrpc/json-rpc-reader.ts';
import type { JsonRpcResponse } from '../jsonrpc/json-rpc-message.ts';
import { toolAnnotations } from '../calls/tool-annotations.ts';
import type { McpToolAnnotations } from '../calls/mcp-command.ts';

export interface CatalogTool {
  readonly name: string;
  readonly annotations?: McpToolAnnotations;
}

/** Pages one listing may take: a server that keeps answering with a cursor is not followed for ever. */
const MAX_PAGES = 100;

/**
 * The gateway's own view of a server's tools, from tools/list requests it sends itself (all
 * pages): what a tools/call's annotations are taken from, and what says a tool is unknown. It is
 * read again after the server says its list changed. An agent's own tools/list does not feed it,
 * so what an agent lists (or does not) cannot change what policy is told about a tool.
 */
export class ToolCatalog {
  private tools: Promise<ReadonlyMap<string, CatalogTool>> | undefined;

  constructor(private readonly list: (cursor: string | undefined) => Promise<JsonRpcResponse>) {}

  /** The tool of that name as the server lists it now, or undefined. */
  async tool(name: string): Promise<CatalogTool | undefined> {
    this.tools ??= this.load();
    const current = this.tools;
    try {
      return (await current).get(name);
    } catch (error) {
      // A failed listing is not kept: the next call lists again.
      if (this.tools === current) this.tools = undefined;
      throw error;
    }
  }

  /** The server said its list changed (notifications/tools/list_changed): listed again when next needed. */
  invalidate(): void {
    this.tools = undefined;
  }

  private async load(): Promise<ReadonlyMap<string, CatalogTool>> {
    const tools = new Map<string, CatalogTool>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const response = await this.list(cursor);
      if ('error' in response) throw new Error(`the server refused tools/list (${response.error.code})`);
      for (const tool of listedTools(response.result)) tools.set(tool.name, tool);
      const next = response.result.nextCursor;
      if (typeof next !== 'string' || next.length === 0) return tools;
      cursor = next;
    }
    return tools;
  }
}

/** The tools of one tools/list result, name and annotations, skipping entries that are not tools. */
export function listedTools(result: Record<string, unknown>): CatalogTool[] {
  const tools = Array.isArray(result.tools) ? result.tools : [];
  return tools.flatMap((tool) => {
    if (!isObject(tool) || typeof tool.name !== 'string' || tool.name.length === 0) return [];
    const annotations = toolAnnotations(tool.annotations);
    return [{ name: tool.name, ...(annotations ? { annotations } : {}) }];
  });
}
