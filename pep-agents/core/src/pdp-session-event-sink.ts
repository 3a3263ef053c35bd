import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionEventV1 } from '@portcullis/contract';
import type { PdpTransport } from './pdp-transport.ts';
import { SessionEventLane, type QueuedSessionEvent, type SessionEventLaneHost } from './session-event-lane.ts';
import type { SessionEventSink, SessionSinkStats } from './session-event-sink.ts';

export interface PdpSessionEventSinkConfig {
  /** Events per POST at most (the PDP takes up to 1000; default 500). */
  readonly batchSize?: number;
  /** Approximate bytes per POST at most (default 640 KiB: the PDP's body limit is 1 MiB by default). */
  readonly batchBytes?: number;
  /** The window: how long an event may wait for company before it ships (a full batch or a session's end ships at once). */
  readonly flushIntervalMs?: number;
  /**
   * POSTs in flight at once, each for its own sessions (a session's events always share one lane,
   * so they keep their order). The PDP answers a POST once its records are durable; parallel
   * lanes share that wait instead of queueing behind it.
   */
  readonly lanes?: number;
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

interface CapacityWaiter {
  readonly resolve: (ready: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Ships session events to the PDP in small batches over a few ordered lanes. The queue is bounded:
 * a PEP asks for capacity before it runs a statement (and may wait for it, which slows the
 * session to the pace the record keeps); past the bound, a reserve takes the records of
 * statements already admitted and every session's start and end.
 */
export class PdpSessionEventSink implements SessionEventSink {
  private readonly lanes: SessionEventLane[];
  private queuedEvents = 0;
  private queuedBytes = 0;
  private closed = false;
  private readonly stop = new AbortController();
  private counts = { submitted: 0, shipped: 0, dropped: 0, rejected: 0, lost: 0 };
  private readonly maxQueuedEvents: number;
  private readonly maxQueuedBytes: number;
  private readonly closeTimeoutMs: number;
  private readonly reserve: number;
  private readonly waiters = new Set<CapacityWaiter>();

  constructor(transport: PdpTransport, private readonly config: PdpSessionEventSinkConfig = {}) {
    this.maxQueuedEvents = config.maxQueuedEvents ?? 10_000;
    this.maxQueuedBytes = config.maxQueuedBytes ?? 16 * 1024 * 1024;
    this.closeTimeoutMs = config.closeTimeoutMs ?? 10_000;
    this.reserve = Math.max(1000, Math.floor(this.maxQueuedEvents / 4));
    const host: SessionEventLaneHost = {
      transport,
      // Large batches: each is one POST, one token check per session and one record per 200 statements on the PDP.
      batchSize: Math.min(Math.max(config.batchSize ?? 500, 1), 1000),
      batchBytes: config.batchBytes ?? 640 * 1024,
      flushIntervalMs: config.flushIntervalMs ?? 500,
      retryInitialMs: config.retryInitialMs ?? 200,
      retryMaxMs: config.retryMaxMs ?? 30_000,
      stop: this.stop.signal,
      released: (entries, outcome) => this.released(entries, outcome),
      problem: (message) => this.config.onProblem?.(message),
    };
    const laneCount = Math.min(Math.max(Math.floor(config.lanes ?? 4), 1), 16);
    this.lanes = Array.from({ length: laneCount }, () => new SessionEventLane(host));
  }

  hasCapacity(): boolean {
    return !this.closed && this.queuedEvents < this.maxQueuedEvents && this.queuedBytes < this.maxQueuedBytes;
  }

  waitForCapacity(timeoutMs: number): Promise<boolean> {
    if (this.hasCapacity()) return Promise.resolve(true);
    if (this.closed || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: CapacityWaiter = {
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  submit(event: SessionEventV1): boolean {
    this.counts.submitted += 1;
    const size = approximateSize(event);
    // The bound is enforced before statements run (hasCapacity); the reserve beyond it takes the
    // records of statements already admitted, and every session's start and end.
    const overReserve = this.queuedEvents >= this.maxQueuedEvents + this.reserve || this.queuedBytes + size > this.maxQueuedBytes * 2;
    if (this.closed || overReserve) {
      this.counts.dropped += 1;
      // Never silent: the first drop and every thousandth are reported.
      if (this.counts.dropped === 1 || this.counts.dropped % 1000 === 0) {
        this.config.onProblem?.(`session events dropped: ${this.counts.dropped} so far (${this.closed ? 'sink closed' : 'queue beyond its reserve'})`);
      }
      return false;
    }
    this.queuedEvents += 1;
    this.queuedBytes += size;
    this.laneOf(event.session.id).push({ event, size });
    return true;
  }

  async flush(): Promise<void> {
    const deadline = Date.now() + this.closeTimeoutMs;
    while (this.queuedEvents > 0 && Date.now() < deadline && !this.stop.signal.aborted) {
      for (const lane of this.lanes) lane.kick();
      const pumps = this.lanes.map((lane) => lane.busy).filter((pump) => pump !== undefined);
      await Promise.race([Promise.all(pumps), sleep(Math.max(deadline - Date.now(), 0), undefined, { ref: false })]);
    }
  }

  async close(): Promise<SessionSinkStats> {
    if (!this.closed) {
      this.closed = true;
      this.wakeWaiters();
      const giveUp = setTimeout(() => this.stop.abort(), this.closeTimeoutMs);
      await this.flush();
      clearTimeout(giveUp);
      this.stop.abort();
      await Promise.all(this.lanes.map((lane) => lane.busy));
      for (const lane of this.lanes) {
        const left = lane.drain();
        this.counts.lost += left.length;
        for (const entry of left) this.forget(entry);
      }
    }
    return this.stats();
  }

  stats(): SessionSinkStats {
    return { ...this.counts, pending: this.queuedEvents };
  }

  private laneOf(sessionId: string): SessionEventLane {
    if (this.lanes.length === 1) return this.lanes[0]!;
    // FNV-1a: cheap, and spreads the short ids of concurrent sessions over the lanes.
    let hash = 0x811c9dc5;
    for (let index = 0; index < sessionId.length; index += 1) hash = Math.imul(hash ^ sessionId.charCodeAt(index), 0x01000193);
    return this.lanes[(hash >>> 0) % this.lanes.length]!;
  }

  private released(entries: readonly QueuedSessionEvent[], outcome: 'shipped' | 'rejected'): void {
    for (const entry of entries) this.forget(entry);
    this.counts[outcome] += entries.length;
    if (this.waiters.size > 0 && this.hasCapacity()) this.wakeWaiters();
  }

  private forget(entry: QueuedSessionEvent): void {
    this.queuedEvents -= 1;
    this.queuedBytes -= entry.size;
  }

  /** Tells every waiter where capacity stands now (a closed sink has none). */
  private wakeWaiters(): void {
    const ready = this.hasCapacity();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(ready);
    }
    this.waiters.clear();
  }
}

/** Close enough to the JSON length for bounds, without serialising on the data path. */
function approximateSize(event: SessionEventV1): number {
  let size = 400 + (event.subject_token?.length ?? 0);
  if (event.event === 'session.statement') size += event.statement.text.length + (event.error?.length ?? 0);
  // A chunk's data is mostly escapes (ESC, binary bytes): its JSON length, once per chunk.
  else if (event.event === 'session.recording') size += JSON.stringify(event.recording).length;
  return size;
}
