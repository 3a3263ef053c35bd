import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { KubeRequest } from '../request/kube-request.ts';
import type { KubeMask } from './kube-masks.ts';

/** What the relay of one allowed request must honour. */
export interface ResponsePlan {
  readonly request: KubeRequest;
  /** The decision's mask obligations (none: relay untouched). */
  readonly masks: readonly KubeMask[];
  /** The client went away or the PEP is shutting down. */
  readonly signal: AbortSignal;
}

export interface RelayOutcome {
  /** The HTTP status relayed. */
  readonly status: number;
  /** Body bytes sent to the client. */
  readonly bytes: number;
  /** Values the masks replaced. */
  readonly masked: number;
  /** Why the answer was not relayed whole (a fixed text: never part of the answer). */
  readonly error?: string;
}

/**
 * The seam of the responses part: how an allowed request's answer comes back. `canMask` is asked
 * before anything is forwarded (a decision with masks this relay cannot honour is refused);
 * `upstreamHeaders` may rewrite what is asked of the API server (Accept, Accept-Encoding) so the
 * answer can be masked; `relay` sends the answer on, masked.
 */
export interface ResponseRelay {
  canMask(masks: readonly KubeMask[], request: KubeRequest): boolean;
  upstreamHeaders(headers: OutgoingHttpHeaders, masks: readonly KubeMask[], request: KubeRequest): OutgoingHttpHeaders;
  relay(upstream: IncomingMessage, client: ServerResponse, plan: ResponsePlan): Promise<RelayOutcome>;
  /** One JSON object masked as `relay` would mask it (a write resolution's read); undefined when it cannot be. */
  maskDocument?(document: unknown, masks: readonly KubeMask[]): { readonly document: unknown; readonly masked: number } | undefined;
}
