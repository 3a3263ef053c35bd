import { randomUUID } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { compareEventIds, isEventId, resolvedFromEvents } from './approval-event-log.ts';
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
  TransitionResult,
} from './approval-store.ts';
import { ApprovalStoreUnavailableError } from './approval-store-unavailable-error.ts';
import { applyConsume, applyExpiry, applyVote, newApprovalRecord, relevantUntil, type Transition } from './approval-transitions.ts';
import { runApprovalWrite } from './approval-write-script.ts';

export interface RedisApprovalStoreOptions {
  /**
   * A Redis URL, ioredis options (Sentinel: `sentinels` + `name`), or a client the caller owns
   * (a Redis or a Cluster). A given client should have `enableOfflineQueue: false` so commands
   * fail fast while Redis is away; the store also bounds every call by `commandTimeoutMs`.
   */
  connection: string | RedisOptions | Redis | Cluster;
  /** Whether close() disconnects a given client too (a client built for this store alone). Default false. */
  ownsConnection?: boolean;
  /**
   * Key and channel prefix. The default carries a hash tag so that a record and the pending
   * index share one Cluster slot, which the atomic write script needs. Default `{portcullis}`.
   */
  prefix?: string;
  /** How long a record stays readable after its expiry (waiters, history). Default 3600. */
  graceSeconds?: number;
  /** Bound on one Redis call before it is reported unavailable. Default 2000. */
  commandTimeoutMs?: number;
  /** How often this replica marks due records expired; 0 turns it off. Default 1000. */
  expiryIntervalMs?: number;
  /** Events kept in the log for readers that resume (about; Redis trims in whole nodes). Default 10000. */
  eventLogLength?: number;
  /** Every write this instance made (see LocalWriteListener). */
  onLocalWrite?: LocalWriteListener;
  /** Background failures (expiry sweep, bad event messages, listener errors). Default: ignored. */
  onError?: (error: unknown) => void;
}

// Every replica reads and writes concurrently; a transition that loses the race reads again.
const MAX_ATTEMPTS = 16;
const EVENT_TYPES = new Set<ApprovalEventType>(['requested', 'updated', 'resolved']);

/**
 * Approvals shared by every PDP replica through Redis: records as JSON with a TTL, a pending
 * index sorted by expiry, every transition one atomic script, every change published to all
 * replicas. Redis away → calls reject with ApprovalStoreUnavailableError; ioredis reconnects,
 * so the store works again once Redis is back.
 */
export class RedisApprovalStore implements ApprovalStore {
  readonly #client: Redis | Cluster;
  readonly #subscriber: Redis | Cluster;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #pendingKey: string;
  readonly #logKey: string;
  readonly #logLength: number;
  readonly #graceMs: number;
  readonly #timeoutMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #onLocalWrite: LocalWriteListener | undefined;
  readonly #listeners: ApprovalListeners;
  readonly #subscribed: Promise<unknown>;
  readonly #timer: NodeJS.Timeout | undefined;
  #sweeping = false;
  /** While the log is read after a reconnect, live messages wait here to keep log order. */
  #backfillQueue: ApprovalEvent[] | undefined;
  #subscriberReadyOnce = false;

  constructor(options: RedisApprovalStoreOptions) {
    this.#prefix = options.prefix ?? '{portcullis}';
    this.#channel = `${this.#prefix}:approvals:events`;
    this.#pendingKey = `${this.#prefix}:approvals:pending`;
    this.#logKey = `${this.#prefix}:approvals:log`;
    this.#logLength = options.eventLogLength ?? 10_000;
    this.#graceMs = (options.graceSeconds ?? 3600) * 1000;
    this.#timeoutMs = options.commandTimeoutMs ?? 2000;
    this.#onError = options.onError ?? (() => {});
    this.#onLocalWrite = options.onLocalWrite;
    this.#listeners = new ApprovalListeners(this.#onError);

    const { connection } = options;
    this.#ownsClient = !(connection instanceof Redis || connection instanceof Cluster) || options.ownsConnection === true;
    this.#client = connection instanceof Redis || connection instanceof Cluster ? connection : this.#connect(connection);
    // A subscribed connection can issue no other command, so events get their own; it queues
    // SUBSCRIBE until connected and subscribes again after every reconnect.
    this.#subscriber =
      this.#client instanceof Cluster
        ? this.#client.duplicate(undefined, { enableOfflineQueue: true })
        : this.#client.duplicate({ enableOfflineQueue: true, autoResendUnfulfilledCommands: true, maxRetriesPerRequest: null, commandTimeout: undefined, lazyConnect: false });
    this.#subscriber.on('error', (error: unknown) => this.#onError(error));
    // Pub/sub drops what is published while a subscriber is away: after every reconnect the
    // log fills the hole, from the last event this replica delivered.
    this.#subscriber.on('ready', () => {
      if (this.#subscriberReadyOnce) void this.#backfill();
      this.#subscriberReadyOnce = true;
    });
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) this.#receive(message);
    });
    this.#subscribed = this.#subscriber.subscribe(this.#channel);
    this.#subscribed.catch((error: unknown) => this.#onError(error));

    const interval = options.expiryIntervalMs ?? 1000;
    if (interval > 0) this.#timer = setInterval(() => void this.#sweep(), interval).unref();
  }

  /** Resolves once commands and events both flow; rejects after `timeoutMs`. */
  async ready(timeoutMs = 5000): Promise<void> {
    const connected =
      this.#client.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => this.#client.once('ready', () => resolve()));
    await this.#bounded('connect', Promise.all([connected, this.#subscribed]), timeoutMs);
  }

  async create(input: ApprovalCreateInput): Promise<ApprovalRecord> {
    const record = newApprovalRecord(randomUUID(), input, new Date());
    const outcome = await this.#write(record, 'requested', 0);
    // A fresh UUID cannot already exist; if it does, something else writes our keys.
    if (typeof outcome !== 'object') throw new ApprovalStoreUnavailableError(`approval store: id ${record.id} already taken`);
    return record;
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const json = await this.#call('GET', this.#client.get(this.#recordKey(id)));
    return json === null ? undefined : (JSON.parse(json) as ApprovalRecord);
  }

  async listPending(): Promise<ApprovalRecord[]> {
    const ids = await this.#call('ZRANGE', this.#client.zrange(this.#pendingKey, 0, -1));
    if (ids.length === 0) return [];
    const jsons = await this.#call('MGET', this.#client.mget(ids.map((id) => this.#recordKey(id))));
    const pending: ApprovalRecord[] = [];
    const gone: string[] = [];
    ids.forEach((id, index) => {
      const json = jsons[index];
      if (json === null || json === undefined) gone.push(id);
      else {
        const record = JSON.parse(json) as ApprovalRecord;
        if (record.status === 'pending') pending.push(record);
      }
    });
    // Records whose key TTL ran out while no replica swept leave their id behind.
    if (gone.length > 0) await this.#call('ZREM', this.#client.zrem(this.#pendingKey, ...gone));
    return pending;
  }

  async vote(id: string, vote: ApprovalVote): Promise<TransitionResult> {
    return (await this.#transition(id, (record) => applyVote(record, vote, new Date()))).result;
  }

  async consume(id: string, binding: string): Promise<TransitionResult> {
    return (await this.#transition(id, (record) => applyConsume(record, binding, new Date()))).result;
  }

  async expireDue(now: Date = new Date()): Promise<ApprovalRecord[]> {
    const ids = await this.#call('ZRANGEBYSCORE', this.#client.zrangebyscore(this.#pendingKey, '-inf', now.getTime()));
    const expired: ApprovalRecord[] = [];
    for (const id of ids) {
      const { written, missing } = await this.#transition(id, (record) => {
        const next = applyExpiry(record, now);
        if (next === undefined) return { result: { ok: false, code: 'not-pending', message: '' } };
        return { result: { ok: true, record: next }, change: { record: next, event: 'resolved' } };
      });
      if (written !== undefined) expired.push(written);
      if (missing) await this.#call('ZREM', this.#client.zrem(this.#pendingKey, id));
    }
    return expired;
  }

  subscribe(listener: ApprovalListener): () => void {
    return this.#listeners.add(listener);
  }

  async latestEventId(): Promise<string> {
    const newest = await this.#call('XREVRANGE', this.#client.xrevrange(this.#logKey, '+', '-', 'COUNT', 1));
    return newest[0]?.[0] ?? '0-0';
  }

  async eventsSince(cursor: string, limit: number): Promise<EventsSince> {
    const entries = await this.#call('XRANGE', this.#client.xrange(this.#logKey, `(${cursor}`, '+', 'COUNT', limit));
    const events = entries.flatMap(([id, fields]) => this.#parseEntry(id, fields));
    return { events, complete: await this.#reachesBack(cursor) };
  }

  async recentResolved(limit: number): Promise<ApprovalRecord[]> {
    // A resolved record has several events (requested, votes, resolved): read enough of them.
    const entries = await this.#call('XREVRANGE', this.#client.xrevrange(this.#logKey, '+', '-', 'COUNT', Math.min(limit * 6, 5000)));
    return resolvedFromEvents(entries.flatMap(([id, fields]) => this.#parseEntry(id, fields)), limit);
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    try {
      await this.#call('PING', this.#client.ping());
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    }
    if (this.#subscriber.status !== 'ready') return { ok: false, detail: `redis event subscription is ${this.#subscriber.status}` };
    return { ok: true, detail: 'redis ready' };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#listeners.clear();
    this.#subscriber.disconnect();
    if (this.#ownsClient) this.#client.disconnect();
  }

  #connect(connection: string | RedisOptions): Redis {
    // Fail fast while Redis is away: no offline queue, no resending after a reconnect, and the
    // commands in flight at a disconnect are failed at once. These win over the caller's options
    // because the store's fail-closed promise rests on them.
    const failFast: RedisOptions = {
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.#timeoutMs,
    };
    const client = typeof connection === 'string' ? new Redis(connection, failFast) : new Redis({ ...connection, ...failFast });
    // Without a listener ioredis prints every connection error; the store reports them per call.
    client.on('error', () => {});
    return client;
  }

  #recordKey(id: string): string {
    return `${this.#prefix}:approval:${id}`;
  }

  /** Read, apply the rules, write if the version is still the one read; again if it was not. */
  async #transition(
    id: string,
    apply: (record: ApprovalRecord | undefined) => Transition,
  ): Promise<{ result: TransitionResult; written?: ApprovalRecord; missing: boolean }> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const current = await this.get(id);
      const transition = apply(current);
      if (transition.change === undefined || current === undefined) return { result: transition.result, missing: current === undefined };
      const outcome = await this.#write(transition.change.record, transition.change.event, current.version);
      if (typeof outcome === 'object') return { result: transition.result, written: transition.change.record, missing: false };
    }
    throw new ApprovalStoreUnavailableError(`approval store: approval ${id} kept changing under ${MAX_ATTEMPTS} attempts`);
  }

  async #write(record: ApprovalRecord, event: ApprovalEventType, expectedVersion: number) {
    const recordJson = JSON.stringify(record);
    const write = runApprovalWrite(this.#client, {
      recordKey: this.#recordKey(record.id),
      pendingKey: this.#pendingKey,
      logKey: this.#logKey,
      logLength: this.#logLength,
      expectedVersion,
      recordJson,
      keyExpiresAtMs: relevantUntil(record) + this.#graceMs,
      pendingScore: record.status === 'pending' ? Date.parse(record.expires_at) : undefined,
      id: record.id,
      channel: this.#channel,
      eventJson: `{"type":${JSON.stringify(event)},"record":${recordJson}}`,
    });
    const outcome = await this.#call('write', write);
    if (typeof outcome === 'object') this.#tellLocalWrite({ id: outcome.written, type: event, record: structuredClone(record) });
    return outcome;
  }

  #tellLocalWrite(event: ApprovalEvent): void {
    try {
      this.#onLocalWrite?.(event);
    } catch (error) {
      this.#onError(error);
    }
  }

  #receive(message: string): void {
    let event: ApprovalEvent;
    try {
      event = JSON.parse(message) as ApprovalEvent;
    } catch (error) {
      this.#onError(error);
      return;
    }
    if (!isEventId(event.id) || !EVENT_TYPES.has(event.type) || typeof event.record?.id !== 'string') {
      this.#onError(new Error(`approval store: ignored a malformed event on ${this.#channel}`));
      return;
    }
    if (this.#backfillQueue !== undefined) this.#backfillQueue.push(event);
    else this.#listeners.deliver(event);
  }

  async #backfill(): Promise<void> {
    const from = this.#listeners.lastDelivered;
    if (from === undefined || this.#backfillQueue !== undefined) return;
    this.#backfillQueue = [];
    try {
      for (let cursor = from; ; ) {
        const { events } = await this.eventsSince(cursor, 500);
        for (const event of events) this.#listeners.deliver(event);
        if (events.length < 500) break;
        cursor = events[events.length - 1]!.id;
      }
    } catch (error) {
      // Redis went away again; the next reconnect backfills from the same point.
      this.#onError(error);
    } finally {
      const queued = this.#backfillQueue;
      this.#backfillQueue = undefined;
      for (const event of queued) this.#listeners.deliver(event);
    }
  }

  #parseEntry(id: string, fields: string[]): ApprovalEvent[] {
    const json = fields[fields.indexOf('e') + 1];
    if (json === undefined) return [];
    try {
      const body = JSON.parse(json) as Omit<ApprovalEvent, 'id'>;
      return EVENT_TYPES.has(body.type) ? [{ id, type: body.type, record: body.record }] : [];
    } catch (error) {
      this.#onError(error);
      return [];
    }
  }

  /**
   * Whether the log still holds every event after `cursor`. Trimming leaves no marker of what it
   * removed, so once anything was trimmed only a cursor at or after the first entry is complete
   * (the cursor of the last trimmed entry reads as incomplete: the reader takes a snapshot).
   */
  async #reachesBack(cursor: string): Promise<boolean> {
    let info: unknown[];
    try {
      info = (await this.#call('XINFO', this.#client.xinfo('STREAM', this.#logKey))) as unknown[];
    } catch (error) {
      // No log at all: only a reader that has seen nothing is complete.
      if ((error as Error).message.includes('no such key')) return cursor === '0-0';
      throw error;
    }
    const field = (name: string): unknown => info[info.indexOf(name) + 1];
    const length = Number(field('length'));
    const added = Number(field('entries-added'));
    if (!(added > length)) return true;
    const first = field('first-entry');
    const firstId = Array.isArray(first) && typeof first[0] === 'string' ? first[0] : undefined;
    return firstId !== undefined && compareEventIds(cursor, firstId) >= 0;
  }

  async #sweep(): Promise<void> {
    // A slow sweep must not overlap the next one.
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      await this.expireDue();
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#sweeping = false;
    }
  }

  /** Any Redis failure becomes ApprovalStoreUnavailableError, within the command timeout. */
  #call<T>(what: string, call: Promise<T>): Promise<T> {
    return this.#bounded(what, call, this.#timeoutMs);
  }

  async #bounded<T>(what: string, call: Promise<T>, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([call, deadline]);
    } catch (error) {
      if (error instanceof ApprovalStoreUnavailableError) throw error;
      throw new ApprovalStoreUnavailableError(`approval store: Redis ${what} failed: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
      // The losing promise may still reject later; nothing waits for it any more.
      call.catch(() => {});
    }
  }
}
