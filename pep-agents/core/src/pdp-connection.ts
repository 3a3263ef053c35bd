import type { MaskKindV1, MaskOfKind } from '@portcullis/contract';
import { ActionAuthorizer } from './action-authorizer.ts';
import { ApprovalWaiter } from './approval-waiter.ts';
import type { ResourceV1 } from './decision-contract.ts';
import { HttpPdpTransport } from './http-pdp-transport.ts';
import { PdpDecisionClient } from './pdp-client.ts';
import type { PdpConnectionConfig } from './pdp-connection-config.ts';
import { PdpSessionEventSink } from './pdp-session-event-sink.ts';
import { secretReader } from './secret-source.ts';
import type { SessionSinkStats } from './session-event-sink.ts';
import { SessionRecorder, type SessionRecorderOptions } from './session-recorder.ts';

export interface PdpConnectionHealth {
  /** False while the session record cannot take more commands (they are refused until it can). */
  readonly recording: boolean;
  readonly records: SessionSinkStats;
}

/**
 * Everything a PEP process holds towards the PDP, built once from config: the kept-alive
 * transport, the decision client, the approval waiter, the session-record shipper. Closing ships
 * the records still queued (within the configured grace), says what could not be, and lets go of
 * the connections. `maskKinds`: the kinds of mask obligation the PEP enforces (SQL columns unless
 * it says otherwise); an answer naming another kind is a fail-closed deny.
 */
export class PdpConnection<K extends MaskKindV1 = 'sql-column'> {
  readonly transport: HttpPdpTransport;
  readonly decisions: PdpDecisionClient<K>;
  readonly approvals: ApprovalWaiter<MaskOfKind<K>>;
  readonly sink: PdpSessionEventSink;

  constructor(
    private readonly config: PdpConnectionConfig,
    private readonly options: { readonly log: (message: string) => void; readonly env?: NodeJS.ProcessEnv; readonly maskKinds?: readonly K[] },
  ) {
    this.transport = new HttpPdpTransport({ url: config.url, pepToken: secretReader(config.token, options.env), deadlineMs: config.timeoutMs });
    this.decisions = new PdpDecisionClient<K>(this.transport, options.maskKinds ? { maskKinds: options.maskKinds } : {});
    this.approvals = new ApprovalWaiter(this.transport, this.decisions, { maxWaitMs: config.approvalWaitMs });
    this.sink = new PdpSessionEventSink(this.transport, {
      onProblem: options.log,
      closeTimeoutMs: config.shutdownGraceMs,
      ...(config.sessionBatchMs === undefined ? {} : { flushIntervalMs: config.sessionBatchMs }),
    });
  }

  /** Decides, and holds approval_required answers for up to the configured wait, for one resource. */
  authorizer(resource: ResourceV1): ActionAuthorizer<MaskOfKind<K>> {
    return new ActionAuthorizer(this.decisions, this.approvals, resource, this.config.approvalWaitMs);
  }

  /** A recorder per session, each sending its events with the caller's token. */
  recorders(resource: ResourceV1, protocol: SessionRecorderOptions['protocol']): (session: SessionRecorderOptions['session'], subjectToken: string) => SessionRecorder {
    return (session, subjectToken) => new SessionRecorder({ sink: this.sink, session, protocol, resource, subjectToken });
  }

  health(): PdpConnectionHealth {
    return { recording: this.sink.hasCapacity(), records: this.sink.stats() };
  }

  /** After the sessions ended: ships what is queued, then closes the connections. */
  async close(): Promise<void> {
    const stats = await this.sink.close();
    if (stats.dropped > 0 || stats.lost > 0) this.options.log(`session records: ${stats.dropped} dropped, ${stats.lost} not shipped before shutdown (of ${stats.submitted})`);
    this.transport.close();
  }
}
