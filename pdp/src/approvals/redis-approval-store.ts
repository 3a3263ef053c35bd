import { createHash, randomUUID } from 'node:crypto';
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
  OpenLimits,
  OpenResult,
  PendingPage,
  TransitionResult,
} from './approval-store.ts';
import { ApprovalStoreUnavailableError } from './approval-store-unavailable-error.ts';
import { applyConsume, applyExpiry, applyVote, isGranted, isGrantedFor, lateRefusal, newApprovalRecord, relevantUntil, usableUntil, type Transition } from './approval-transitions.ts';
import { readWithTime, runApprovalWrite, type WriteOutcome } from './approval-write-script.ts';
import { decodePendingCursor, encodePendingCursor, isAfter } from './pending-page-cursor.ts';

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
const MAX_GRANTED_TRIED = 8;
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

  async open(input: ApprovalCreateInput, limits: OpenLimits = {}): Promise<OpenResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const id = randomUUID();
      const { now } = await this.#read(id);
      const record = newApprovalRecord(id, input, now);
      const outcome = await this.#write(record, 'requested', 0, { maxPendingPerRequester: limits.maxPendingPerRequester });
      if (typeof outcome === 'object' && 'written' in outcome) return { outcome: 'created', record };
      if (typeof outcome === 'object' && 'limit' in outcome) return { outcome: 'limit', pending: outcome.limit, limit: limits.maxPendingPerRequester ?? outcome.limit };
      if (typeof outcome === 'object' && 'joined' in outcome) {
        const joined = await this.get(outcome.joined);
        // It left the store between the script and this read: ask again.
        if (joined !== undefined) return { outcome: 'joined', record: joined };
        continue;
      }
      // A fresh UUID cannot already exist; if it does, something else writes our keys.
      throw new ApprovalStoreUnavailableError(`approval store: id ${record.id} already taken`);
    }
    throw new ApprovalStoreUnavailableError(`approval store: the pending approval for binding ${input.binding.slice(0, 12)}… kept changing under ${MAX_ATTEMPTS} attempts`);
  }

  async create(input: ApprovalCreateInput): Promise<ApprovalRecord> {
    const opened = await this.open(input);
    if (opened.outcome === 'limit') throw new Error('unreachable: no limit was given');
    return opened.record;
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const json = await this.#call('GET', this.#client.get(this.#recordKey(id)));
    return json === null ? undefined : (JSON.parse(json) as ApprovalRecord);
  }

  async pendingPage(cursor: string | undefined, limit: number): Promise<PendingPage> {
    const after = cursor === undefined ? undefined : decodePendingCursor(cursor);
    if (cursor !== undefined && after === undefined) throw new RangeError('not a pending-queue cursor');
    const records: ApprovalRecord[] = [];
    // Records of equal expiry sort by id in the index as here; read in batches from the
    // cursor's score and skip what is not after it, until the page is full or the index ends.
    const from = after === undefined ? '-inf' : String(after.expiresAtMs);
    let offset = 0;
    const batch = Math.max(limit + 1, 50);
    for (;;) {
      const entries = await this.#call('ZRANGEBYSCORE', this.#client.zrangebyscore(this.#pendingKey, from, '+inf', 'WITHSCORES', 'LIMIT', offset, batch));
      const positions: { id: string; expiresAtMs: number }[] = [];
      for (let index = 0; index + 1 < entries.length; index += 2) positions.push({ id: entries[index]!, expiresAtMs: Number(entries[index + 1]) });
      const wanted = positions.filter((position) => after === undefined || isAfter(position, after));
      if (wanted.length > 0) {
        const jsons = await this.#call('MGET', this.#client.mget(wanted.map((position) => this.#recordKey(position.id))));
        for (const json of jsons) {
          if (typeof json !== 'string') continue;
          const record = JSON.parse(json) as ApprovalRecord;
          if (record.status === 'pending') records.push(record);
          if (records.length > limit) break;
        }
      }
      if (records.length > limit || positions.length < batch) break;
      offset += batch;
    }
    const page = records.slice(0, limit);
    const last = page.at(-1);
    return { records: page, ...(records.length > limit && last !== undefined ? { next: encodePendingCursor({ expiresAtMs: Date.parse(last.expires_at), id: last.id }) } : {}) };
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
    return (await this.#transition(id, (record, now) => applyVote(record, vote, now))).result;
  }

  async consume(id: string, binding: string): Promise<TransitionResult> {
    return (await this.#transition(id, (record, now) => applyConsume(record, binding, now))).result;
  }

  async consumeGranted(binding: string): Promise<TransitionResult | undefined> {
    // At most one such record is usual (a re-run consumes it); a few cover a vote that raced a request.
    const ids = await this.#call('ZRANGE', this.#client.zrange(this.#grantedKey(binding), 0, MAX_GRANTED_TRIED - 1));
    for (const id of ids) {
      const { result } = await this.#transition(id, (record, now) => (record !== undefined && isGrantedFor(record, binding) ? applyConsume(record, binding, now) : { result: { ok: false, code: 'not-found', message: '' } }));
      if (result.ok) return result;
    }
    return undefined;
  }

  async expireDue(given?: Date): Promise<ApprovalRecord[]> {
    // Due by Redis's clock, the one every replica's writes are judged by.
    const now = given ?? (await this.#read('-')).now;
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

  /** Hashed: a binding or subject of any length and alphabet makes a short, safe key. */
  #bindingKey(binding: string): string {
    return `${this.#prefix}:approvals:binding:${createHash('sha256').update(binding).digest('hex')}`;
  }

  #grantedKey(binding: string): string {
    return `${this.#prefix}:approvals:granted:${createHash('sha256').update(binding).digest('hex')}`;
  }

  #requesterKey(sub: string): string {
    return `${this.#prefix}:approvals:requester:${createHash('sha256').update(sub).digest('hex')}`;
  }

  async #read(id: string): Promise<{ record: ApprovalRecord | undefined; now: Date }> {
    const { json, now } = await this.#call('read', readWithTime(this.#client, this.#recordKey(id)));
    return { record: json === undefined ? undefined : (JSON.parse(json) as ApprovalRecord), now };
  }

  /**
   * Read (with Redis's time), apply the rules at that time, write if the version is still the
   * one read and the transition's deadline has not passed by then; again if the version moved.
   */
  async #transition(
    id: string,
    apply: (record: ApprovalRecord | undefined, now: Date) => Transition,
  ): Promise<{ result: TransitionResult; written?: ApprovalRecord; missing: boolean }> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const { record: current, now } = await this.#read(id);
      const transition = apply(current, now);
      if (transition.change === undefined || current === undefined) return { result: transition.result, missing: current === undefined };
      const { record, event, validUntilMs } = transition.change;
      const outcome = await this.#write(record, event, current.version, { deadlineMs: validUntilMs });
      if (outcome === 'late') {
        // Its time ran out between the read and the write: read again, and the rules answer
        // as of now (a vote then also marks the record expired).
        if (attempt + 1 < MAX_ATTEMPTS) continue;
        return { result: lateRefusal(current), missing: false };
      }
      if (typeof outcome === 'object') return { result: transition.result, written: record, missing: false };
    }
    throw new ApprovalStoreUnavailableError(`approval store: approval ${id} kept changing under ${MAX_ATTEMPTS} attempts`);
  }

  async #write(
    record: ApprovalRecord,
    event: ApprovalEventType,
    expectedVersion: number,
    bounds: { deadlineMs?: number | undefined; maxPendingPerRequester?: number | undefined } = {},
  ): Promise<WriteOutcome> {
    const recordJson = JSON.stringify(record);
    const write = runApprovalWrite(this.#client, {
      recordKey: this.#recordKey(record.id),
      pendingKey: this.#pendingKey,
      logKey: this.#logKey,
      bindingKey: this.#bindingKey(record.binding),
      requesterKey: this.#requesterKey(record.requester.sub),
      grantedKey: this.#grantedKey(record.binding),
      ...(isGranted(record) ? { grantedScore: usableUntil(record) } : {}),
      ...(bounds.deadlineMs === undefined ? {} : { deadlineMs: bounds.deadlineMs }),
      ...(bounds.maxPendingPerRequester === undefined ? {} : { maxPendingPerRequester: bounds.maxPendingPerRequester }),
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
    if (typeof outcome === 'object' && 'written' in outcome) this.#tellLocalWrite({ id: outcome.written, type: event, record: structuredClone(record) });
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
