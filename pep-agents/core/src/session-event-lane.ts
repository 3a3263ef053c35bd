import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionEventV1 } from '@portcullis/contract';
import { isRecord } from './decision-answer-reader.ts';
import type { PdpTransport } from './pdp-transport.ts';
import { sessionEventBatchBody } from './session-event-batch.ts';

export interface QueuedSessionEvent {
  readonly event: SessionEventV1;
  readonly size: number;
}

/** What a lane shares with the sink that owns it: the transport, the limits, and the books. */
export interface SessionEventLaneHost {
  readonly transport: PdpTransport;
  readonly batchSize: number;
  readonly batchBytes: number;
  readonly flushIntervalMs: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly stop: AbortSignal;
  /** Events left the lane: shipped, or refused by the PDP for what they say. */
  released(entries: readonly QueuedSessionEvent[], outcome: 'shipped' | 'rejected'): void;
  problem(message: string): void;
}

const SESSIONS_PATH = '/v1/sessions/events';
const BATCH_DEADLINE_MS = 10_000;

/**
 * One ordered queue of session events and the pump that ships it, one POST at a time: every
 * event of a session goes through the same lane, so a session's events keep their order while
 * other lanes' POSTs are in flight beside it. Failures are retried with capped exponential backoff.
 *
 * Time-windowed: a POST leaves when a batch is full, when a session ends, or when the window
 * (`flushIntervalMs`) has passed since the lane last shipped — never merely because the previous
 * POST came back. A busy session's statements so gather into a few large batches (on the PDP,
 * one record of up to 200 statements each) instead of as many small ones as there are round
 * trips; no event waits in the lane longer than the window and one POST.
 */
export class SessionEventLane {
  private readonly queue: QueuedSessionEvent[] = [];
  /** Approximate bytes of this lane's queue: a batch fills by its own lane, not by the others'. */
  private queuedBytes = 0;
  /** session.end events queued: a session's end ships without waiting for the window. */
  private endsQueued = 0;
  private pumping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private batchLimit: number;

  constructor(private readonly host: SessionEventLaneHost) {
    this.batchLimit = host.batchSize;
  }

  get length(): number {
    return this.queue.length;
  }

  /** The pump now running, if any. */
  get busy(): Promise<void> | undefined {
    return this.pumping;
  }

  push(entry: QueuedSessionEvent): void {
    this.queue.push(entry);
    this.queuedBytes += entry.size;
    if (entry.event.event === 'session.end') this.endsQueued += 1;
    if (this.batchReady) {
      this.kick();
    } else if (!this.timer && !this.pumping) {
      this.timer = setTimeout(() => this.kick(), this.host.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** A batch leaves now rather than at the end of the window. */
  private get batchReady(): boolean {
    return this.queue.length >= this.batchLimit || this.queuedBytes >= this.host.batchBytes || this.endsQueued > 0;
  }

  kick(): void {
    this.clearTimer();
    if (this.pumping || this.queue.length === 0 || this.host.stop.aborted) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      // Events that arrived as the pump was finishing still get their turn.
      if (this.queue.length > 0 && !this.timer && !this.host.stop.aborted) {
        this.timer = setTimeout(() => this.kick(), this.host.flushIntervalMs);
        this.timer.unref();
      }
    });
  }

  /** Empties the lane (the sink counts what it held as lost). */
  drain(): QueuedSessionEvent[] {
    this.clearTimer();
    return this.remove(0, this.queue.length);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async pump(): Promise<void> {
    const host = this.host;
    let failures = 0;
    while (this.queue.length > 0 && !host.stop.aborted) {
      const batch = this.nextBatch();
      const result = await host.transport.call('POST', SESSIONS_PATH, sessionEventBatchBody(batch.map((entry) => entry.event)), {
        deadlineMs: BATCH_DEADLINE_MS,
        signal: host.stop,
      });
      if (result.kind === 'answer' && result.status < 300) {
        this.take(batch.length, 'shipped');
        this.batchLimit = host.batchSize;
        failures = 0;
        // What came in during the round trip waits for company until the window ends (kick's timer).
        if (!this.batchReady) return;
        continue;
      }
      if (host.stop.aborted) return;
      if (result.kind === 'answer' && result.status === 413 && batch.length > 1) {
        this.batchLimit = Math.max(1, Math.floor(batch.length / 2));
        continue;
      }
      const refusedClaim = result.kind === 'answer' && result.status === 403 ? refusedDecisionIndex(result.body) : undefined;
      if (result.kind === 'answer' && ((result.status !== 401 && result.status !== 403) || refusedClaim !== undefined)) {
        // The PDP refused the content (or one statement's claim to a decision): resending the same
        // events cannot help. Drop the one it names when it names one, else the whole batch.
        const index = refusedClaim ?? invalidEventIndex(result.body);
        if (index !== undefined && index < batch.length) host.released(this.remove(index, 1), 'rejected');
        else this.take(batch.length, 'rejected');
        host.problem(`session events refused by the PDP (${result.status}${errorCode(result.body)})`);
        continue;
      }
      // Unreachable, slow, failing, or our credential refused: keep the events and try again later.
      if (result.kind === 'failure') {
        const accepted = acceptedCount(result.body);
        if (accepted > 0) this.take(Math.min(accepted, batch.length), 'shipped');
      }
      failures += 1;
      const why = result.kind === 'failure' ? result.code : `pdp answered ${result.status}`;
      host.problem(`session events not shipped (${why}); ${this.queue.length} queued in this lane, retry ${failures}`);
      const delay = Math.min(host.retryInitialMs * 2 ** (failures - 1), host.retryMaxMs);
      try {
        await sleep(delay * (0.5 + Math.random() / 2), undefined, { signal: host.stop, ref: false });
      } catch {
        return;
      }
    }
  }

  private nextBatch(): QueuedSessionEvent[] {
    let bytes = 0;
    let count = 0;
    for (const entry of this.queue) {
      if (count > 0 && (count >= this.batchLimit || bytes + entry.size > this.host.batchBytes)) break;
      bytes += entry.size;
      count += 1;
    }
    return this.queue.slice(0, count);
  }

  private take(count: number, outcome: 'shipped' | 'rejected'): void {
    this.host.released(this.remove(0, count), outcome);
  }

  private remove(start: number, count: number): QueuedSessionEvent[] {
    const removed = this.queue.splice(start, count);
    for (const entry of removed) {
      this.queuedBytes -= entry.size;
      if (entry.event.event === 'session.end') this.endsQueued -= 1;
    }
    return removed;
  }
}

/** `invalid-request` names the field: `events[3].statement.text` → 3. */
function invalidEventIndex(body: unknown): number | undefined {
  if (!isRecord(body) || !isRecord(body.details) || typeof body.details.field !== 'string') return undefined;
  const match = /^events\[(\d+)\]/.exec(body.details.field);
  return match ? Number(match[1]) : undefined;
}

/**
 * A 403 that names one statement's decision (not issued to this PEP for that session, or one that
 * allowed nothing): that event is refused for what it claims; any other 403 is about the PEP's
 * credential, which a rotated token may fix.
 */
function refusedDecisionIndex(body: unknown): number | undefined {
  if (!isRecord(body) || !isRecord(body.details) || typeof body.details.field !== 'string') return undefined;
  const match = /^events\[(\d+)\]\.decision_(id|reused)$/.exec(body.details.field);
  return match ? Number(match[1]) : undefined;
}

/** A 503 `audit-unavailable` says how many events of the batch the audit trail took before it failed. */
function acceptedCount(body: unknown): number {
  if (!isRecord(body) || !isRecord(body.details)) return 0;
  const accepted = body.details.accepted;
  return typeof accepted === 'number' && Number.isInteger(accepted) && accepted > 0 ? accepted : 0;
}

function errorCode(body: unknown): string {
  return isRecord(body) && typeof body.code === 'string' ? ` ${body.code.slice(0, 64)}` : '';
}
