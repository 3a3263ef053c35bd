import { randomUUID } from 'node:crypto';
import { CommandGate, DecisionReuseCache, type ActionAuthorizer, type SessionRecorder } from '@portcullis/pep-core';
import type { KubeCommand } from '../decisions/kube-command.ts';
import type { KubeProtocolAdapter } from '../decisions/kube-protocol-adapter.ts';
import type { KubeMask } from '../pipeline/kube-masks.ts';
import type { KubeStatus } from '../status/kube-status.ts';

export interface KubeSessionDeps {
  readonly adapter: KubeProtocolAdapter;
  readonly authorizer: ActionAuthorizer<KubeMask>;
  readonly recorders: (session: { id: string; client_addr?: string }, subjectToken: string) => SessionRecorder;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
}

/**
 * One client connection with one token: a session record of its requests and the gate they pass.
 * A connection that changes token (a refreshed credential) opens another session.
 */
export class KubeSession {
  readonly id = randomUUID();
  readonly recorder: SessionRecorder;
  readonly gate: CommandGate<KubeCommand, KubeStatus, KubeMask>;
  private inflight = 0;
  private closing: string | undefined;

  constructor(
    readonly subjectToken: string,
    readonly clientAddr: string | undefined,
    deps: KubeSessionDeps,
  ) {
    const session = { id: this.id, ...(clientAddr ? { client_addr: clientAddr } : {}) };
    this.recorder = deps.recorders(session, subjectToken);
    this.recorder.start();
    this.gate = new CommandGate(
      deps.adapter,
      deps.authorizer,
      () => ({
        subjectToken,
        session,
        // An HTTP client cannot be told anything while its request is held: the answer says it all.
        notify: (message) => deps.log(message, { session: this.id }),
      }),
      // Re-reads of the same object or list (kubectl, informers' resyncs) under a reuse grant.
      { recorder: this.recorder, reuse: new DecisionReuseCache<KubeMask>() },
    );
  }

  /** Runs one request of this session; the record ends only once every request in flight has. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.inflight += 1;
    try {
      return await work();
    } finally {
      this.inflight -= 1;
      if (this.inflight === 0 && this.closing !== undefined) this.recorder.end(this.closing);
    }
  }

  /** The connection closed (or the PEP is stopping): end the record now, or when the last request ends. */
  end(reason: string): void {
    this.closing ??= reason;
    if (this.inflight === 0) this.recorder.end(reason);
  }
}
