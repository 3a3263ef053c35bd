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
    for (const listener of this.#listeners) {
      try {
        // Each listener gets its own copy: one cannot change what the next one sees.
        listener(structuredClone(event));
      } catch (error) {
        this.onError(error);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
