import { compareEventIds } from './approval-event-log.ts';
import type { ApprovalEvent, ApprovalListener } from './approval-store.ts';

/**
 * The subscribers of one store. Events are delivered once each, in log order: an event whose id
 * is not after the last one delivered (a replay after a reconnect) is dropped. A throwing
 * listener is reported and never stops the others.
 */
export class ApprovalListeners {
  readonly #listeners = new Set<ApprovalListener>();
  #lastDelivered: string | undefined;

  constructor(private readonly onError: (error: unknown) => void) {}

  /** The id of the newest event delivered so far, if any. */
  get lastDelivered(): string | undefined {
    return this.#lastDelivered;
  }

  add(listener: ApprovalListener): () => void {
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const entry: ApprovalListener = (event) => listener(event);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  deliver(event: ApprovalEvent): void {
    if (this.#lastDelivered !== undefined && compareEventIds(event.id, this.#lastDelivered) <= 0) return;
    this.#lastDelivered = event.id;
    // One frozen copy for all: no listener can change what the next one sees, and a thousand
    // listeners cost one clone, not a thousand.
    const shared = deepFreeze(structuredClone(event));
    for (const listener of this.#listeners) {
      try {
        listener(shared);
      } catch (error) {
        this.onError(error);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
