import type { AuditRecorder } from '../audit/trail/audit-trail.ts';
import { buildShadowDifferenceEvent } from '../audit/events/shadow-audit-event.ts';
import type { DecisionObserver, ObservedDecision } from '../decisions/decision-observer.ts';
import { DECISION_ENTRYPOINT } from '../decisions/decision-service.ts';
import { readPolicyOutcome } from '../decisions/policy-result.ts';
import type { PdpMetrics } from '../metrics/pdp-metrics.ts';
import type { PolicyEngine } from '../policy/policy-engine.ts';
import { outcomeDifference } from './outcome-difference.ts';
import type { RecentDifferences } from './recent-differences.ts';

export interface ShadowEvaluatorOptions {
  /** The shadow's own engine and workers: never the live one's. */
  readonly engine: PolicyEngine;
  /** Only `record`: a difference never waits for durability, and a refused one is counted, not retried. */
  readonly audit: Pick<AuditRecorder, 'record'>;
  readonly metrics: PdpMetrics;
  readonly recent: RecentDifferences;
  /** Decisions waiting or being evaluated; beyond it new ones are dropped (counted). */
  readonly maxQueued: number;
  /** Evaluations handed to the engine at once (a few per worker keeps them busy without a backlog inside). */
  readonly maxInFlight: number;
  readonly log: (message: string) => void;
}

export interface ShadowCounts {
  same: number;
  different: number;
  failed: number;
  dropped: number;
}

/**
 * Evaluates each recorded decision's input again with the shadow policy, after the answer and
 * off its path: observe() only queues (a bounded queue; a full one drops and counts), the queue
 * is drained on a later turn of the event loop through the shadow's own engine, and a shadow
 * that is not loaded, fails or hangs costs the live path nothing but the queueing. Where the
 * shadow's outcome differs from the live policy's, the difference is recorded on the shadow
 * stream, counted and kept for the console.
 */
export class ShadowEvaluator implements DecisionObserver {
  private readonly queue: ObservedDecision[] = [];
  private head = 0;
  private inFlight = 0;
  private scheduled = false;
  private lastFailure: { message: string; at: string } | null = null;
  readonly counts: ShadowCounts = { same: 0, different: 0, failed: 0, dropped: 0 };

  constructor(private readonly options: ShadowEvaluatorOptions) {}

  /** Decisions waiting for the shadow or being evaluated. */
  get depth(): number {
    return this.queue.length - this.head + this.inFlight;
  }

  /** The last evaluation that failed (the shadow's own fault: it never reaches an answer). */
  get lastEvaluationError(): { message: string; at: string } | null {
    return this.lastFailure;
  }

  observe(decision: ObservedDecision): void {
    if (this.options.engine.revision === undefined) return this.drop('not-loaded');
    if (this.depth >= this.options.maxQueued) return this.drop('queue-full');
    this.queue.push(decision);
    this.schedule();
  }

  private drop(reason: 'not-loaded' | 'queue-full' | 'audit-refused'): void {
    this.counts.dropped += 1;
    this.options.metrics.shadowDropped.inc({ reason });
  }

  // A later turn: the answer that queued this decision is written before the shadow starts on it.
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.scheduled = false;
    while (this.inFlight < this.options.maxInFlight && this.head < this.queue.length) {
      const decision = this.queue[this.head]!;
      this.head += 1;
      this.inFlight += 1;
      void this.evaluate(decision).finally(() => {
        this.inFlight -= 1;
        if (this.head < this.queue.length) this.schedule();
      });
    }
    // Reclaim the consumed front now and then instead of shifting on every take.
    if (this.head > 1024 || this.head === this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private async evaluate(decision: ObservedDecision): Promise<void> {
    const { engine, metrics } = this.options;
    let result: unknown;
    let revision: string;
    try {
      ({ result, revision } = await engine.evaluate(DECISION_ENTRYPOINT, decision.inputJson));
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    const shadow = readPolicyOutcome(result);
    const changes = outcomeDifference(decision.outcome, shadow);
    if (changes.length === 0) {
      this.counts.same += 1;
      metrics.shadowEvaluations.inc({ result: 'same' });
      return;
    }
    this.counts.different += 1;
    metrics.shadowEvaluations.inc({ result: 'different' });
    const live = decision.outcome;
    const recorded = this.options.audit.record(buildShadowDifferenceEvent({
      decisionId: decision.decisionId,
      changes,
      live: { revision: decision.revision, effect: live.effect },
      shadow: { revision, effect: shadow.effect, reasons: shadow.reasons, obligations: shadow.obligations, ...(shadow.approval ? { approval: shadow.approval } : {}) },
      principalSub: decision.principalSub,
      resource: decision.resource,
      actionType: decision.actionType,
    }));
    if (!recorded) this.drop('audit-refused');
    this.options.recent.add({
      time: new Date().toISOString(),
      decision_id: decision.decisionId,
      changes,
      principal: decision.principalSub,
      resource: decision.resource,
      action_type: decision.actionType,
      live: { revision: decision.revision, effect: live.effect, reasons: live.reasons.map((reason) => reason.code) },
      shadow: { revision, effect: shadow.effect, reasons: shadow.reasons.map((reason) => reason.code) },
    });
  }

  private fail(error: Error): void {
    this.counts.failed += 1;
    this.options.metrics.shadowEvaluations.inc({ result: 'failed' });
    const message = error.message.slice(0, 500);
    // Logged when it changes, not per decision: a broken shadow must not flood the log.
    if (this.lastFailure?.message !== message) this.options.log(`shadow: evaluation failed (${message}); live answers are unaffected`);
    this.lastFailure = { message, at: new Date().toISOString() };
  }
}
