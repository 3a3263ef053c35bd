import type { ApprovalRecord, ApprovalStore } from './approval-store.ts';

interface Waiter {
  resolve(record: ApprovalRecord | undefined): void;
}

/**
 * Everyone on this replica waiting for an approval to leave pending, held as one map behind a
 * single store subscription: a thousand waits cost a thousand small entries, not a thousand
 * subscriptions or polls.
 */
export class ApprovalWaiters {
  readonly #byId = new Map<string, Set<Waiter>>();
  readonly #unsubscribe: () => void;
  #count = 0;

  constructor(private readonly store: ApprovalStore) {
    this.#unsubscribe = store.subscribe((event) => {
      if (event.record.status !== 'pending') this.#release(event.record.id, event.record);
    });
  }

  get size(): number {
    return this.#count;
  }

  async wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalRecord | undefined> {
    let waiter: Waiter | undefined;
    let timer: NodeJS.Timeout | undefined;
    // Registered before the first read, so a resolution between the two is not missed.
    const released = new Promise<ApprovalRecord | undefined | 'timeout'>((resolve) => {
      waiter = { resolve };
      this.#add(id, waiter);
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      signal?.addEventListener('abort', () => resolve('timeout'), { once: true });
    });
    try {
      const current = await this.store.get(id);
      if (current === undefined || current.status !== 'pending' || timeoutMs <= 0) return current;
      const outcome = await released;
      // Timed out or aborted: answer with the state as it is now.
      return outcome === 'timeout' ? await this.store.get(id) : outcome;
    } finally {
      clearTimeout(timer);
      this.#remove(id, waiter!);
    }
  }

  close(): void {
    this.#unsubscribe();
    for (const waiters of this.#byId.values()) for (const waiter of waiters) waiter.resolve(undefined);
    this.#byId.clear();
    this.#count = 0;
  }

  #add(id: string, waiter: Waiter): void {
    let set = this.#byId.get(id);
    if (set === undefined) this.#byId.set(id, (set = new Set()));
    set.add(waiter);
    this.#count += 1;
  }

  #remove(id: string, waiter: Waiter): void {
    const set = this.#byId.get(id);
    if (set === undefined || !set.delete(waiter)) return;
    this.#count -= 1;
    if (set.size === 0) this.#byId.delete(id);
  }

  #release(id: string, record: ApprovalRecord): void {
    for (const waiter of this.#byId.get(id) ?? []) waiter.resolve(record);
  }
}
