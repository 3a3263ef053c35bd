import { setTimeout as sleep } from 'node:timers/promises';
import { isRecord } from './decision-answer-reader.ts';
import type { PdpTransport } from './pdp-transport.ts';
import type { SessionEventV1 } from '@portcullis/contract';
import type { SessionEventSink, SessionSinkStats } from './session-event-sink.ts';

export interface PdpSessionEventSinkConfig {
  /** Events per POST at most (the PDP takes up to 1000). */
  readonly batchSize?: number;
  /** Approximate bytes per POST at most (the PDP's body limit is 1 MiB by default). */
  readonly batchBytes?: number;
  /** How long a lone event may wait for company before it ships. */
  readonly flushIntervalMs?: number;
  /** Memory bound: statement events beyond it are dropped and counted. */
  readonly maxQueuedEvents?: number;
  readonly maxQueuedBytes?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** How long close() keeps trying before it counts what is left as lost. */
  readonly closeTimeoutMs?: number;
  /** Told about shipping trouble (never with event contents or tokens). */
  readonly onProblem?: (message: string) => void;
}

interface Queued {
  readonly event: SessionEventV1;
  readonly size: number;
}

const SESSIONS_PATH = '/v1/sessions/events';
const BATCH_DEADLINE_MS = 10_000;

/**
 * Ships session events to the PDP in small batches, one POST at a time so a session's events
 * keep their order. Failures are retried with capped exponential backoff; the queue is bounded,
 * and statement events are dropped for space first, so sessions keep their start and end.
 */
export class PdpSessionEventSink implements SessionEventSink {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private pumping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly stop = new AbortController();
  private counts = { submitted: 0, shipped: 0, dropped: 0, rejected: 0, lost: 0 };
  private readonly batchSize: number;
  private readonly batchBytes: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueuedEvents: number;
  private readonly maxQueuedBytes: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly closeTimeoutMs: number;
  private readonly reserve: number;
  private batchLimit: number;

  constructor(private readonly transport: PdpTransport, private readonly config: PdpSessionEventSinkConfig = {}) {
    this.batchSize = Math.min(Math.max(config.batchSize ?? 100, 1), 1000);
    this.batchBytes = config.batchBytes ?? 256 * 1024;
    this.flushIntervalMs = config.flushIntervalMs ?? 500;
    this.maxQueuedEvents = config.maxQueuedEvents ?? 10_000;
    this.maxQueuedBytes = config.maxQueuedBytes ?? 16 * 1024 * 1024;
    this.retryInitialMs = config.retryInitialMs ?? 200;
    this.retryMaxMs = config.retryMaxMs ?? 30_000;
    this.closeTimeoutMs = config.closeTimeoutMs ?? 10_000;
    this.reserve = Math.max(1000, Math.floor(this.maxQueuedEvents / 4));
    this.batchLimit = this.batchSize;
  }

  hasCapacity(): boolean {
    return !this.closed && this.queue.length < this.maxQueuedEvents && this.queuedBytes < this.maxQueuedBytes;
  }

  submit(event: SessionEventV1): boolean {
    this.counts.submitted += 1;
    const size = approximateSize(event);
    // The bound is enforced before statements run (hasCapacity); the reserve beyond it takes the
    // records of statements already admitted, and every session's start and end.
    const overReserve = this.queue.length >= this.maxQueuedEvents + this.reserve || this.queuedBytes + size > this.maxQueuedBytes * 2;
    if (this.closed || overReserve) {
      this.counts.dropped += 1;
      // Never silent: the first drop and every thousandth are reported.
      if (this.counts.dropped === 1 || this.counts.dropped % 1000 === 0) {
        this.config.onProblem?.(`session events dropped: ${this.counts.dropped} so far (${this.closed ? 'sink closed' : 'queue beyond its reserve'})`);
      }
      return false;
    }
    this.queue.push({ event, size });
    this.queuedBytes += size;
    if (this.queue.length >= this.batchSize || this.queuedBytes >= this.batchBytes || event.event === 'session.end') {
      this.kick();
    } else if (!this.timer && !this.pumping) {
      this.timer = setTimeout(() => this.kick(), this.flushIntervalMs);
      this.timer.unref();
    }
    return true;
  }

  async flush(): Promise<void> {
    const deadline = Date.now() + this.closeTimeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline && !this.stop.signal.aborted) {
      this.kick();
      await Promise.race([this.pumping, sleep(Math.max(deadline - Date.now(), 0), undefined, { ref: false })]);
    }
  }

  async close(): Promise<SessionSinkStats> {
    if (!this.closed) {
      this.closed = true;
      const giveUp = setTimeout(() => this.stop.abort(), this.closeTimeoutMs);
      await this.flush();
      clearTimeout(giveUp);
      this.stop.abort();
      await this.pumping;
      this.clearTimer();
      this.counts.lost += this.queue.length;
      this.queue.length = 0;
      this.queuedBytes = 0;
    }
    return this.stats();
  }

  stats(): SessionSinkStats {
    return { ...this.counts, pending: this.queue.length };
  }

  private kick(): void {
    this.clearTimer();
    if (this.pumping || this.queue.length === 0 || this.stop.signal.aborted) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      // Events that arrived as the pump was finishing still get their turn.
      if (this.queue.length > 0 && !this.timer && !this.stop.signal.aborted) {
        this.timer = setTimeout(() => this.kick(), this.flushIntervalMs);
        this.timer.unref();
      }
    });
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async pump(): Promise<void> {
    let failures = 0;
    while (this.queue.length > 0 && !this.stop.signal.aborted) {
      const batch = this.nextBatch();
      const result = await this.transport.call('POST', SESSIONS_PATH, { events: batch.map((entry) => entry.event) }, {
        deadlineMs: BATCH_DEADLINE_MS,
        signal: this.stop.signal,
      });
      if (result.kind === 'answer' && result.status < 300) {
        this.take(batch.length, 'shipped');
        this.batchLimit = this.batchSize;
        failures = 0;
        continue;
      }
      if (this.stop.signal.aborted) return;
      if (result.kind === 'answer' && result.status === 413 && batch.length > 1) {
        this.batchLimit = Math.max(1, Math.floor(batch.length / 2));
        continue;
      }
      const refusedClaim = result.kind === 'answer' && result.status === 403 ? refusedDecisionIndex(result.body) : undefined;
      if (result.kind === 'answer' && ((result.status !== 401 && result.status !== 403) || refusedClaim !== undefined)) {
        // The PDP refused the content (or one statement's claim to a decision): resending the same
        // events cannot help. Drop the one it names when it names one, else the whole batch.
        const index = refusedClaim ?? invalidEventIndex(result.body);
        if (index !== undefined && index < batch.length) {
          this.queue.splice(index, 1);
          this.queuedBytes -= batch[index]!.size;
          this.counts.rejected += 1;
        } else {
          this.take(batch.length, 'rejected');
        }
        this.config.onProblem?.(`session events refused by the PDP (${result.status}${errorCode(result.body)})`);
        continue;
      }
      // Unreachable, slow, failing, or our credential refused: keep the events and try again later.
      if (result.kind === 'failure') {
        const accepted = acceptedCount(result.body);
        if (accepted > 0) this.take(Math.min(accepted, batch.length), 'shipped');
      }
      failures += 1;
      const why = result.kind === 'failure' ? result.code : `pdp answered ${result.status}`;
      this.config.onProblem?.(`session events not shipped (${why}); ${this.queue.length} queued, retry ${failures}`);
      const delay = Math.min(this.retryInitialMs * 2 ** (failures - 1), this.retryMaxMs);
      try {
        await sleep(delay * (0.5 + Math.random() / 2), undefined, { signal: this.stop.signal, ref: false });
      } catch {
        return;
      }
    }
  }

  private nextBatch(): Queued[] {
    let bytes = 0;
    let count = 0;
    for (const entry of this.queue) {
      if (count > 0 && (count >= this.batchLimit || bytes + entry.size > this.batchBytes)) break;
      bytes += entry.size;
      count += 1;
    }
    return this.queue.slice(0, count);
  }

  private take(count: number, outcome: 'shipped' | 'rejected'): void {
    for (const entry of this.queue.splice(0, count)) this.queuedBytes -= entry.size;
    this.counts[outcome] += count;
  }
}

/** Close enough to the JSON length for bounds, without serialising on the data path. */
function approximateSize(event: SessionEventV1): number {
  let size = 400 + (event.subject_token?.length ?? 0);
  if (event.event === 'session.statement') size += event.statement.text.length + (event.error?.length ?? 0);
  return size;
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
