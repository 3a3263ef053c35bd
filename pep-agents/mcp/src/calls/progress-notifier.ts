import type { JsonRpcNotification } from '../jsonrpc/json-rpc-message.ts';
import type { ProgressToken } from './mcp-command.ts';

/**
 * What the gateway tells an agent while its request is held (an approval being waited for): the
 * `notify` of the command's authorize context. This first version tells nothing; the calls part
 * turns the notices into `notifications/progress` for a request that gave a progress token.
 */
export function progressNotifier(_send: (message: JsonRpcNotification) => void, _progressToken: ProgressToken | undefined): (message: string, detail?: string) => void {
  return () => undefined;
}
