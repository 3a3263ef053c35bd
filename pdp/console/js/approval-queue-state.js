// The pending queue as the server last described it: records by id, each at its highest
// version, and the id of the last event applied (what a reconnect resumes from).

/** Event ids are `<ms>-<seq>`: compare both numbers, not the text. */
export function compareEventIds(a, b) {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? Math.sign(am - bm) : Math.sign(as - bs);
}

const REMEMBERED_RESOLVED = 200;

/** The server's queue order: soonest expiry, then id. */
export function compareQueueOrder(a, b) {
  return Date.parse(a.expires_at) - Date.parse(b.expires_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class ApprovalQueueState {
  /** id → record, status pending. */
  pending = new Map();
  /** id → record that left the queue while we watched (newest last), for deep links and notices. */
  resolved = new Map();
  lastEventId = null;
  #listeners = new Set();

  /** fn(changes): changes is [{kind: 'added' | 'updated' | 'removed', record, previous?}]. */
  onChange(fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** The cursor of the next page of the queue, while the server has more than it sent. */
  nextPage = null;

  /**
   * A snapshot is the queue's first page: what it lacks up to its last record (all of the
   * queue when it is the only page) has left the queue; later records wait for their page.
   */
  applySnapshot(message) {
    const changes = [];
    const incoming = new Map(message.pending.map((record) => [record.id, record]));
    const last = message.pending.at(-1);
    const covered = (record) => message.next_page === undefined || (last !== undefined && compareQueueOrder(record, last) <= 0);
    this.nextPage = message.next_page ?? null;
    for (const [id, record] of this.pending) {
      if (!incoming.has(id) && covered(record)) {
        this.pending.delete(id);
        changes.push({ kind: 'removed', record, previous: record, unknownOutcome: true });
      }
    }
    for (const record of incoming.values()) changes.push(...this.#upsert(record));
    this.lastEventId = message.cursor ?? this.lastEventId;
    this.#emit(changes);
  }

  /** A further page of the queue (the answer to a `page` request). */
  applyPage(message) {
    this.nextPage = message.next_page ?? null;
    const changes = [];
    for (const record of message.pending) changes.push(...this.#upsert(record));
    this.#emit(changes);
    if (changes.length === 0) for (const listener of this.#listeners) listener([]);
  }

  applyEvent(message) {
    if (this.lastEventId !== null && compareEventIds(message.id, this.lastEventId) <= 0) return;
    this.lastEventId = message.id;
    this.#emit(this.applyRecord(message.approval, false));
  }

  /** A record seen outside the event stream (a vote answer): applied by version like any other. */
  applyRecord(record, emit = true) {
    const changes = this.#upsert(record);
    if (emit) this.#emit(changes);
    return changes;
  }

  #upsert(record) {
    const existing = this.pending.get(record.id) ?? this.resolved.get(record.id);
    if (existing !== undefined && existing.version >= record.version) return [];
    if (record.status === 'pending') {
      this.pending.set(record.id, record);
      return [{ kind: existing === undefined ? 'added' : 'updated', record, previous: existing }];
    }
    const wasPending = this.pending.delete(record.id);
    this.resolved.delete(record.id);
    this.resolved.set(record.id, record);
    if (this.resolved.size > REMEMBERED_RESOLVED) this.resolved.delete(this.resolved.keys().next().value);
    return wasPending ? [{ kind: 'removed', record, previous: existing }] : [];
  }

  /** Pending records, soonest expiry first: the most urgent on top. */
  ordered() {
    return [...this.pending.values()].sort(compareQueueOrder);
  }

  #emit(changes) {
    if (changes.length === 0) return;
    for (const listener of this.#listeners) listener(changes);
  }
}
