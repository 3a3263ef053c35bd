import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DecisionAnswer, LogFunction, TerminalRecorder, TerminalRecorderOptions } from '@portcullis/pep-core';
import type { KubeRequest } from '../request/kube-request.ts';
import type { KubeSession } from '../server/kube-session.ts';
import type { Impersonation, KubeUpstream } from '../upstream/kube-upstream.ts';
import type { KubeMask } from './kube-masks.ts';

/** An HTTP upgrade (exec, attach, port-forward) the core has checked (target, identity headers, token), to be decided and relayed. */
export interface UpgradeContext {
  /** The request as sent (its body is empty: an upgrade carries none). */
  readonly request: KubeRequest;
  readonly incoming: IncomingMessage;
  readonly socket: Duplex;
  /** Bytes the client sent past the request head. */
  readonly head: Buffer;
  /** The client's session: its gate decides and records (`session.gate.run`). */
  readonly session: KubeSession;
  readonly upstream: KubeUpstream;
  /** Who the API server must be told is asking, for an allowed answer (undefined: no impersonation configured). */
  impersonationFor(answer: DecisionAnswer<KubeMask>): Impersonation | undefined;
  /** A terminal recording (asciicast v2) of this session, for an exec or attach with a TTY. */
  terminalRecorder(recording: Omit<TerminalRecorderOptions, 'sink' | 'protocol' | 'resource' | 'session' | 'subjectToken'>): TerminalRecorder;
  readonly log: LogFunction;
  /** The PEP is shutting down. */
  readonly signal: AbortSignal;
}

/** The seam of the upgrades part: runs one upgrade to its end (never rejects). */
export type UpgradeHandler = (context: UpgradeContext) => Promise<void>;
