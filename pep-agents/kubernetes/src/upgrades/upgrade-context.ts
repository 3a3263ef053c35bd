// What the PEP's server hands the upgrade handler for one upgrade request: the request as it
// arrived, the client's raw socket, the API server, and the decision path (the command gate of
// the client's session, through the core's adapter).
import type { Duplex } from 'node:stream';
import type { CommandOutcome, TerminalRecorder } from '@portcullis/pep-core';
import type { KubeRequest } from '../request/kube-request.ts';
import type { KubeStatus } from '../status/kube-status.ts';
import type { Impersonation, KubeUpstream } from '../upstream/kube-upstream.ts';

/** An allow, as the upgrade needs it. */
export interface UpgradeDecision {
  readonly decisionId: string;
  /** Who the API server is asked to treat the request as (undefined: impersonation is off). */
  readonly impersonate?: Impersonation;
}

export type UpgradeRun = { readonly ran: true } | { readonly ran: false; readonly refusal: KubeStatus };

export interface UpgradeContext {
  readonly request: KubeRequest;
  /** The client's connection, as the server's 'upgrade' event gave it. */
  readonly client: Duplex;
  /** Bytes the client sent after the request head. */
  readonly head: Buffer;
  readonly upstream: KubeUpstream;
  /**
   * The command gate's `run` for this request: decided as a `kubernetes` action, `execute` only
   * when allowed (it resolves once the session ended, with what the session entry says), the
   * adapter's Status when refused.
   */
  readonly run: (execute: (decision: UpgradeDecision) => Promise<CommandOutcome>) => Promise<UpgradeRun>;
  /** Decides one more request in the same session (a port-forward's port the query did not name); true when allowed now. */
  readonly decide: (request: KubeRequest) => Promise<boolean>;
  /** The asciicast recorder of a session with a terminal, under the decision that allowed it. */
  readonly terminalRecorder: (decisionId: string, terminal: { readonly cols: number; readonly rows: number }) => TerminalRecorder;
  /** The largest WebSocket message or SPDY frame relayed (default 16 MiB). */
  readonly maxFrameBytes?: number;
  readonly log?: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
}
