import type { McpAction } from '../calls/mcp-command.ts';
import { JSON_RPC_ERROR, jsonRpcError } from '../jsonrpc/json-rpc-errors.ts';
import type { JsonRpcRequest, JsonRpcResponse } from '../jsonrpc/json-rpc-message.ts';
import { isObject } from '../jsonrpc/json-rpc-reader.ts';
import type { CatalogTool } from './tool-catalog.ts';

/** The params members each decided method may carry: what the decision covers, and `_meta` (the progress token). */
const DECIDED_PARAMS: ReadonlyMap<string, readonly string[]> = new Map([
  ['tools/call', ['name', 'arguments', '_meta']],
  ['prompts/get', ['name', 'arguments', '_meta']],
  ['resources/read', ['uri', '_meta']],
]);

/** The tools a session may call: those the server lists, less those policy hid from its list. */
export interface CallableTools {
  readonly hidden: ReadonlySet<string>;
  tool(name: string): Promise<CatalogTool | undefined>;
}

/**
 * The `mcp` action of a tools/call, resources/read or prompts/get, or the JSON-RPC error that
 * ends it at the gateway (it reaches no server).
 */
export async function decidedAction(request: JsonRpcRequest, tools: CallableTools): Promise<{ readonly action: McpAction } | { readonly error: JsonRpcResponse }> {
  const params = request.params ?? {};
  const invalid = (why: string) => ({ error: jsonRpcError(request.id, JSON_RPC_ERROR.invalidParams, `portcullis: ${why}`) });
  // What the server is sent is what was decided: a member the decision does not carry (a task to run it as, say) is not sent.
  const members = DECIDED_PARAMS.get(request.method) ?? [];
  const undecided = Object.keys(params).find((member) => !members.includes(member));
  if (undecided !== undefined) return invalid(`the gateway does not pass on params.${undecided.slice(0, 64)} with ${request.method.slice(0, 64)}`);
  const args = params.arguments;
  if (args !== undefined && !isObject(args)) return invalid('"arguments" must be an object');
  const withArgs = args === undefined ? {} : { arguments: args };
  switch (request.method) {
    case 'tools/call': {
      if (typeof params.name !== 'string' || params.name.length === 0) return invalid('"name" must name a tool');
      const tool = tools.hidden.has(params.name) ? undefined : await tools.tool(params.name);
      if (tool === undefined) return invalid(`unknown tool: "${params.name.slice(0, 100)}"`);
      return { action: { type: 'mcp', method: 'tools/call', tool: tool.name, ...withArgs, ...(tool.annotations ? { annotations: tool.annotations } : {}) } };
    }
    case 'prompts/get':
      if (typeof params.name !== 'string' || params.name.length === 0) return invalid('"name" must name a prompt');
      return { action: { type: 'mcp', method: 'prompts/get', prompt: params.name, ...withArgs } };
    case 'resources/read':
      if (typeof params.uri !== 'string' || params.uri.length === 0) return invalid('"uri" must name a resource');
      return { action: { type: 'mcp', method: 'resources/read', uri: params.uri } };
    default:
      // Only a method the decision names is decided: no other method may borrow another's decision.
      return { error: jsonRpcError(request.id, JSON_RPC_ERROR.methodNotFound, `portcullis: the method "${request.method.slice(0, 100)}" is not available through the gateway`) };
  }
}
