import { randomUUID } from 'node:crypto';
import { compareEventIds, resolvedFromEvents } from './approval-event-log.ts';
import { ApprovalListeners } from './approval-listeners.ts';
import type {
  ApprovalCreateInput,
  ApprovalEvent,
  ApprovalEventType,
  ApprovalListener,
  ApprovalRecord,
  ApprovalStore,
  ApprovalVote,
  EventsSince,
  LocalWriteListener,
  OpenLimits,
  OpenResult,
  PendingPage,
  TransitionResult,
} from './approval-store.ts';
import { decodePendingCursor, encodePendingCursor, isAfter } from './pending-page-cursor.ts';
import { applyConsume, applyExpiry, applyVote, isGrantedFor, isPastExpiry, newApprovalRecord, relevantUntil, type Transition } from './approval-transitions.ts';

export interface InMemoryApprovalStoreOptions {
  /** How often pending records are checked for expiry; 0 turns the timer off. Default 1000. */
  expiryIntervalMs?: number;
  /** How long a record stays readable after its expiry (waiters, history). Default 3600. */
  graceSeconds?: number;
  /** Events kept for readers that resume. Default 10000. */
  eventLogLength?: number;
  /** Every write this instance made (see LocalWriteListener). */
  onLocalWrite?: LocalWriteListener;
  /** Listener failures. Default: ignored. */
  onError?: (error: unknown) => void;
}

/**
 * The embedded default for one machine: approvals live in this process and die with it.
 * Each method reads, applies and writes without awaiting in between, so it is atomic.
 */
export class InMemoryApprovalStore implements ApprovalStore {
  readonly #records = new Map<string, ApprovalRecord>();
  /** The pending record of each binding, and each requester's pending records. */
  readonly #pendingByBinding = new Map<string, ApprovalRecord>();
  readonly #pendingByRequester = new Map<string, Set<ApprovalRecord>>();
  readonly #listeners: ApprovalListeners;
  readonly #graceMs: number;
  readonly #onLocalWrite: LocalWriteListener | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #timer: NodeJS.Timeout | undefined;
  // Ids are `<process start ms>-<n>`: a cursor from before a restart is older than the whole
  // log, so its reader is told to take a fresh snapshot.
  readonly #epoch = Date.now();
  readonly #log: ApprovalEvent[] = [];
  readonly #logLength: number;
  #sequence = 0;
  /** The id just before the oldest event still in the log. */
  #floor = `${this.#epoch}-0`;

  constructor(options: InMemoryApprovalStoreOptions = {}) {
    this.#onError = options.onError ?? (() => {});
    this.#listeners = new ApprovalListeners(this.#onError);
    this.#onLocalWrite = options.onLocalWrite;
    this.#graceMs = (options.graceSeconds ?? 3600) * 1000;
    this.#logLength = options.eventLogLength ?? 10_000;
    const interval = options.expiryIntervalMs ?? 1000;
    if (interval > 0) {
      // unref: a pending approval must not keep the process alive on shutdown.
      this.#timer = setInterval(() => this.#sweep(new Date()), interval).unref();
    }
  }

  async open(input: ApprovalCreateInput, limits: OpenLimits = {}): Promise<OpenResult> {
    const now = new Date();
    const record = newApprovalRecord(randomUUID(), input, now);
    const existing = this.#pendingByBinding.get(record.binding);
    if (existing !== undefined && !isPastExpiry(existing, now)) return { outcome: 'joined', record: structuredClone(existing) };
    const held = [...(this.#pendingByRequester.get(record.requester.sub) ?? [])].filter((other) => !isPastExpiry(other, now)).length;
    const limit = limits.maxPendingPerRequester;
    if (limit !== undefined && held >= limit) return { outcome: 'limit', pending: held, limit };
    this.#write(record, 'requested');
    return { outcome: 'created', record: structuredClone(record) };
  }

  async create(input: ApprovalCreateInput): Promise<ApprovalRecord> {
    const opened = await this.open(input);
    if (opened.outcome === 'limit') throw new Error('unreachable: no limit was given');
    return opened.record;
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const record = this.#records.get(id);
    return record === undefined ? undefined : structuredClone(record);
  }

  async listPending(): Promise<ApprovalRecord[]> {
    return [...this.#records.values()]
      .filter((record) => record.status === 'pending')
      .sort((a, b) => Date.parse(a.expires_at) - Date.parse(b.expires_at) || (a.id < b.id ? -1 : 1))
      .map((record) => structuredClone(record));
  }

  async pendingPage(cursor: string | undefined, limit: number): Promise<PendingPage> {
    const after = cursor === undefined ? undefined : decodePendingCursor(cursor);
    if (cursor !== undefined && after === undefined) throw new RangeError('not a pending-queue cursor');
    const ordered = [...this.#records.values()]
      .filter((record) => record.status === 'pending')
      .map((record) => ({ record, position: { expiresAtMs: Date.parse(record.expires_at), id: record.id } }))
      .filter(({ position }) => after === undefined || isAfter(position, after))
      .sort((a, b) => (isAfter(a.position, b.position) ? 1 : -1));
    const page = ordered.slice(0, limit);
    const last = page.at(-1);
    return {
      records: page.map(({ record }) => structuredClone(record)),
      ...(ordered.length > limit && last !== undefined ? { next: encodePendingCursor(last.position) } : {}),
    };
  }

  async vote(id: string, vote: ApprovalVote): Promise<TransitionResult> {
    return this.#commit(applyVote(this.#records.get(id), vote, new Date()));
  }

  async consume(id: string, binding: string): Promise<TransitionResult> {
    return this.#commit(applyConsume(this.#records.get(id), binding, new Date()));
  }

  async consumeGranted(binding: string): Promise<TransitionResult | undefined> {
    const now = new Date();
    const granted = [...this.#records.values()].filter((record) => isGrantedFor(record, binding)).sort((a, b) => a.created_at.localeCompare(b.created_at));
    for (const record of granted) {
      const result = this.#commit(applyConsume(record, binding, now));
      if (result.ok) return result;
    }
    return undefined;
  }

  async expireDue(now: Date = new Date()): Promise<ApprovalRecord[]> {
    const expired: ApprovalRecord[] = [];
    for (const record of this.#records.values()) {
      const next = applyExpiry(record, now);
      if (next === undefined) continue;
      this.#write(next, 'resolved');
      expired.push(structuredClone(next));
    }
    return expired;
  }

  subscribe(listener: ApprovalListener): () => void {
    return this.#listeners.add(listener);
  }

  async latestEventId(): Promise<string> {
    return this.#log.at(-1)?.id ?? this.#floor;
  }

  async eventsSince(cursor: string, limit: number): Promise<EventsSince> {
    const events = this.#log.filter((event) => compareEventIds(event.id, cursor) > 0).slice(0, limit);
    return { events: structuredClone(events), complete: compareEventIds(cursor, this.#floor) >= 0 };
  }

  async recentResolved(limit: number): Promise<ApprovalRecord[]> {
    return structuredClone(resolvedFromEvents([...this.#log].reverse(), limit));
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    return { ok: true, detail: `in memory, ${this.#records.size} records` };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#listeners.clear();
  }

  #commit(transition: Transition): TransitionResult {
    if (transition.change !== undefined) this.#write(transition.change.record, transition.change.event);
    return structuredClone(transition.result);
  }

  #write(record: ApprovalRecord, event: ApprovalEventType): void {
    const previous = this.#records.get(record.id);
    if (previous !== undefined) this.#unindex(previous);
    if (record.status === 'pending') this.#index(record);
    this.#records.set(record.id, record);
    this.#sequence += 1;
    const entry: ApprovalEvent = { id: `${this.#epoch}-${this.#sequence}`, type: event, record: structuredClone(record) };
    this.#log.push(entry);
    if (this.#log.length > this.#logLength) this.#floor = this.#log.shift()!.id;
    // Delivered after the caller has its answer, as the Redis store's pub/sub does.
    queueMicrotask(() => {
      this.#listeners.deliver(structuredClone(entry));
      try {
        this.#onLocalWrite?.(structuredClone(entry));
      } catch (error) {
        this.#onError(error);
      }
    });
  }

  #index(record: ApprovalRecord): void {
    this.#pendingByBinding.set(record.binding, record);
    const held = this.#pendingByRequester.get(record.requester.sub) ?? new Set();
    held.add(record);
    this.#pendingByRequester.set(record.requester.sub, held);
  }

  #unindex(record: ApprovalRecord): void {
    if (this.#pendingByBinding.get(record.binding) === record) this.#pendingByBinding.delete(record.binding);
    const held = this.#pendingByRequester.get(record.requester.sub);
    held?.delete(record);
    if (held?.size === 0) this.#pendingByRequester.delete(record.requester.sub);
  }

  #sweep(now: Date): void {
    void this.expireDue(now);
    // Resolved records are dropped after the grace period, so memory stays bounded.
    for (const [id, record] of this.#records) {
      if (record.status !== 'pending' && now.getTime() > relevantUntil(record) + this.#graceMs) this.#records.delete(id);
    }
  }
}
