/** The enriched network action of docs/policy-input.md (`action.type == "network"`). */
import type { ActionV1 } from '@portcullis/contract';
import type { HostAddress } from './host-address.ts';

// A type, not an interface: it is also a plain JSON record (audit, approvals).
export type EnrichedNetworkAction = Extract<ActionV1, { type: 'network' }> & {
  transport: 'tcp' | 'unix';
  /** tcp: the host as the resolver reads it; null for unix sockets and when parse_error is set. */
  address: HostAddress | null;
  /** A string when the host, port or socket path cannot be read: policy denies it. */
  parse_error: string | null;
};
