import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../../threads/module-worker.ts';
import type { AuditEvent } from '../audit-event.ts';
import type { AdmittingAuditRecorder } from './audit-trail.ts';
import type { AuditTrailHealth, AuditWorkerData, FromAuditWorker, ToAuditWorker } from './audit-worker-protocol.ts';

const workerModule = siblingModule(import.meta.url, 'audit-worker');

/**
 * The audit trail as the decision path sees it: record() hands the event to the audit thread
 * (batched per event-loop turn) and answers at once; durable() then resolves once the thread
 * reports the event durable (sync durability: the caller answers only then) or at once (async).
 * Admission follows the thread's latest word on capacity (reported every 50 ms), so a full or
 * failing sink turns decisions into denies; events admitted just before it filled are still
 * stored. If the thread dies, every decision fails closed.
 */
export class ThreadedAuditTrail implements AdmittingAuditRecorder {
  private readonly worker: Worker;
  private outbox: string[] = [];
  private scheduled = false;
  private latest: AuditTrailHealth | undefined;
  private failure: string | undefined;
  private nextFlushId = 1;
  private readonly flushes = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private closing: Promise<void> | undefined;
  private closedResolve: (() => void) | undefined;
  /** The thread reported its close done: its exit after that is no failure. */
  private closedCleanly = false;
  private abandoned = false;
  private readonly ready: Promise<void>;
  /** Events handed to record() so far, and how many of the first of them the thread reported durable. */
  private recorded = 0;
  private durableEvents = 0;
  private durableWaiters: Array<{ events: number; resolve: () => void; reject: (error: Error) => void }> = [];
  private readonly durability: 'sync' | 'async';

  constructor(data: AuditWorkerData, private readonly log: (message: string) => void) {
    this.durability = data.audit.durability;
    this.worker = startModuleWorker(workerModule, data);
    let readyResolve!: () => void;
    let readyReject!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    this.worker.on('message', (message: FromAuditWorker) => {
      switch (message.kind) {
        case 'ready':
          this.latest = message.health;
          readyResolve();
          return;
        case 'health':
          this.latest = message.health;
          return;
        case 'flushed': {
          const waiter = this.flushes.get(message.id);
          this.flushes.delete(message.id);
          if (message.error) waiter?.reject(new Error(message.error));
          else waiter?.resolve();
          return;
        }
        case 'durable': {
          this.durableEvents = message.events;
          const waiting = this.durableWaiters;
          this.durableWaiters = waiting.filter((waiter) => waiter.events > message.events);
          for (const waiter of waiting) if (waiter.events <= message.events) waiter.resolve();
          return;
        }
        case 'durability-failed':
          this.log(`audit: ${message.message}; decisions waiting for their records are denied`);
          this.failDurableWaiters(message.message);
          return;
        case 'closed':
          this.closedCleanly = true;
          this.closedResolve?.();
          return;
        case 'log':
          this.log(message.message);
          return;
        case 'failed':
          this.log(message.message);
          return;
      }
    });
    const died = (why: string): void => {
      // Closed on purpose, or already stopped (abandoned; a crash reports both error and exit).
      if (this.closedCleanly || this.failure) return;
      if (this.closedResolve) {
        // Died while closing: the close ends here, with what it could not store said.
        this.failure = why;
        this.log(`audit: the audit thread stopped while closing (${why}); records it still held may not be stored`);
        this.closedResolve();
        return;
      }
      this.failure = why;
      this.log(`audit: the audit thread stopped (${why}); every decision is denied until the PDP restarts`);
      readyReject(new Error(why));
      for (const waiter of this.flushes.values()) waiter.reject(new Error(why));
      this.flushes.clear();
      this.failDurableWaiters(`audit thread stopped: ${why}`);
    };
    this.worker.on('error', (error) => died(error.message));
    this.worker.on('exit', (code) => died(`exit code ${code}`));
  }

  /** Resolves when the audit thread has opened its sink and keys. */
  start(): Promise<void> {
    return this.ready;
  }

  get producerId(): string {
    return this.latest?.producer_id ?? 'unknown';
  }

  admits(): boolean {
    return !this.failure && !this.closing && this.latest?.accepting === true;
  }

  /** `admitted`: admits() said yes for this event earlier; the thread takes it past its bound. */
  record(event: AuditEvent, admitted = false): boolean {
    if (this.failure || this.closing || (!admitted && !this.latest?.accepting)) return false;
    this.outbox.push(JSON.stringify(event));
    this.recorded += 1;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.send());
    }
    return true;
  }

  durable(): Promise<void> {
    if (this.durability === 'async') return Promise.resolve();
    if (this.failure) return Promise.reject(new Error(`audit thread stopped: ${this.failure}`));
    const events = this.recorded;
    if (this.durableEvents >= events) return Promise.resolve();
    return new Promise((resolve, reject) => this.durableWaiters.push({ events, resolve, reject }));
  }

  private failDurableWaiters(why: string): void {
    const waiting = this.durableWaiters;
    this.durableWaiters = [];
    for (const waiter of waiting) waiter.reject(new Error(why));
  }

  /** Resolves once every event recorded so far is durably stored by the sink. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(new Error(`audit thread stopped: ${this.failure}`));
    this.send();
    const id = this.nextFlushId++;
    return new Promise((resolve, reject) => {
      this.flushes.set(id, { resolve, reject });
      this.post({ kind: 'flush', id });
    });
  }

  health(): AuditTrailHealth {
    const base: AuditTrailHealth = this.latest ?? { sink: 'starting', status: 'degraded', queued: 0, written: 0, rejected: 0, producer_id: 'unknown', digest_failures: 0, accepting: false, durability: this.durability };
    return this.failure ? { ...base, status: 'failing', accepting: false, lastError: `audit thread stopped: ${this.failure}` } : base;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.send();
      if (this.failure) return;
      await new Promise<void>((resolve) => {
        this.closedResolve = resolve;
        this.post({ kind: 'close' });
      });
      await this.worker.terminate();
    })();
    return this.closing;
  }

  /**
   * Stops the audit thread where it stands, writing nothing more: events not yet handed to it are
   * dropped, the thread is ended without flushing its queue or closing its sink (no last digest),
   * and everyone waiting for durability is failed, so those decisions are denied. For a PDP whose
   * audit folder was taken over by another: closing would flush into that PDP's files. Only a
   * write the thread had already begun can still land there.
   */
  abandon(why: string): Promise<void> {
    if (this.abandoned) return this.closing!;
    this.abandoned = true;
    // With async durability these records' decisions were answered already: say how many are lost.
    if (this.outbox.length > 0) this.log(`audit: ${this.outbox.length} records not yet handed to the audit thread are not written (${why})`);
    this.outbox = [];
    this.failure = `abandoned: ${why}`;
    for (const waiter of this.flushes.values()) waiter.reject(new Error(this.failure));
    this.flushes.clear();
    this.failDurableWaiters(`audit thread stopped: ${this.failure}`);
    // Also when a close is under way: it would write the rest (and its last digest) into the folder.
    const terminated = this.worker.terminate().then(() => undefined);
    const closing = this.closing;
    this.closedResolve?.();
    this.closing = closing ? closing.then(() => terminated) : terminated;
    return this.closing;
  }

  private send(): void {
    this.scheduled = false;
    if (this.outbox.length === 0) return;
    const events = this.outbox;
    this.outbox = [];
    this.post({ kind: 'record', events });
  }

  private post(message: ToAuditWorker): void {
    this.worker.postMessage(message);
  }
}
