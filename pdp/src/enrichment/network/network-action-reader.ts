/**
 * A network action as policy sees it: the host read as the resource's resolver will
 * (host-address.ts), a Unix socket path normalised as a file path is, or a parse_error.
 */
import type { ActionV1 } from '@portcullis/contract';
import { readHostPath } from '../file/host-path.ts';
import { readHostAddress } from './host-address.ts';
import type { EnrichedNetworkAction } from './network-facts.ts';

export function enrichNetworkAction(action: Extract<ActionV1, { type: 'network' }>): EnrichedNetworkAction {
  const transport = action.transport ?? 'tcp';
  const refused = (problem: string): EnrichedNetworkAction => ({ ...action, transport, address: null, parse_error: problem });
  if (transport === 'unix') {
    if (action.socket_path === undefined) return refused('socket_path is required for a unix socket');
    const path = readHostPath(action.socket_path, undefined);
    if (!path.ok) return refused(`socket_path ${path.problem}`);
    return { ...action, transport, socket_path: path.path, address: null, parse_error: null };
  }
  if (action.host === undefined) return refused('host is required for tcp');
  if (action.port === undefined) return refused('port is required for tcp');
  if (action.direction === 'outbound' && action.port === 0) return refused('port 0 names no port to connect to');
  const host = readHostAddress(action.host, action.direction === 'inbound');
  if (!host.ok) return refused(`host ${host.problem}`);
  return { ...action, transport, address: host.address, parse_error: null };
}
