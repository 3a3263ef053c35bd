import type { ApprovalEvent, ApprovalListener } from './approval-store.ts';

/** The subscribers of one store. A throwing listener is reported and never stops the others. */
export class ApprovalListeners {
  readonly #listeners = new Set<ApprovalListener>();

  constructor(private readonly onError: (error: unknown) => void) {}

  add(listener: ApprovalListener): () => void {
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const entry: ApprovalListener = (event) => listener(event);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  deliver(event: ApprovalEvent): void {
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
