import type { PgError } from '../errors/pg-error.ts';
import type { ResultMasker } from './result-masker.ts';
import type { StatementRun } from './statement-run.ts';

/** Called once with whether the server carried out the message (false: it failed or skipped it). */
export type Settle = (ok: boolean) => void;

/** What the PEP waits to hear back for one message it sent upstream, in the order sent. */
export type PendingResponse =
  | { readonly kind: 'parse'; readonly settle: Settle }
  | { readonly kind: 'bind'; readonly settle: Settle }
  | { readonly kind: 'close'; readonly settle: Settle }
  | { readonly kind: 'describe'; readonly masker: ResultMasker }
  | { readonly kind: 'execute'; readonly masker: ResultMasker; readonly run: StatementRun }
  | { readonly kind: 'query'; readonly masker: ResultMasker; readonly run: StatementRun }
  | { readonly kind: 'sync' }
  /**
   * A refused message, replaced upstream by one that cannot parse so that the server itself fails
   * it (aborting the transaction or pipeline exactly as a real error would). Its ErrorResponse is
   * swapped for `error`. `simple`: a Query, whose ReadyForQuery follows the error.
   */
  | { readonly kind: 'refusal'; readonly error: PgError; readonly simple: boolean };

interface Entry {
  readonly response: PendingResponse;
  /** Who waits for this answer (settled()); most answers nobody waits for, so none is made up front. */
  waiters?: Array<() => void>;
}

const NOTHING_OWED: Promise<void> = Promise.resolve();

/**
 * The queue of answers owed by the server. The server answers strictly in order, and after an
 * error in the extended protocol it skips every message until Sync: so does this queue.
 */
export class PendingResponses {
  private readonly queue: Entry[] = [];
  private skippingUntilSync = false;

  /** Records what a message just sent upstream will be answered with; false if the server will skip it. */
  expect(response: PendingResponse): boolean {
    if (this.skippingUntilSync && response.kind !== 'sync') {
      settleOf(response)?.(false);
      return false;
    }
    if (response.kind === 'sync') this.skippingUntilSync = false;
    this.queue.push({ response });
    return true;
  }

  get head(): PendingResponse | undefined {
    return this.queue[0]?.response;
  }

  get size(): number {
    return this.queue.length;
  }

  /** Whether the server is known to be skipping messages until the next Sync. */
  get skipping(): boolean {
    return this.skippingUntilSync;
  }

  /** The head was answered. */
  complete(ok = true): PendingResponse | undefined {
    const entry = this.queue.shift();
    if (!entry) return undefined;
    settleOf(entry.response)?.(ok);
    if (entry.waiters) for (const wake of entry.waiters) wake();
    return entry.response;
  }

  /** After an error in the extended protocol: everything up to the next Sync was skipped. */
  skipUntilSync(): void {
    while (this.queue.length > 0 && this.queue[0]!.response.kind !== 'sync') this.complete(false);
    if (this.queue.length === 0) this.skippingUntilSync = true;
  }

  /** Resolves once every answer owed now that matches `predicate` has come back (or been skipped). */
  settled(predicate: (response: PendingResponse) => boolean): Promise<void> {
    // The common case, on every statement: nothing owed (the client waits for each answer).
    let waits: Promise<void>[] | undefined;
    for (const entry of this.queue) {
      if (!predicate(entry.response)) continue;
      (waits ??= []).push(new Promise<void>((resolve) => (entry.waiters ??= []).push(resolve)));
    }
    return waits === undefined ? NOTHING_OWED : Promise.all(waits).then(() => undefined);
  }

  /**
   * Resolves once every ReadyForQuery owed now has come back; undefined when none is owed (the
   * common case: nothing to wait on, and no promise made). PostgreSQL reports changed settings
   * (ParameterStatus) just before ReadyForQuery: text sent after it is read under settings the
   * PEP has seen.
   */
  readyForQueryPending(): Promise<void> | undefined {
    for (const entry of this.queue) if (owesReadyForQuery(entry.response)) return this.settled(owesReadyForQuery);
    return undefined;
  }

  /** The session is over: nothing owed will come. Returns what was still owed, in order. */
  abandon(): PendingResponse[] {
    const owed = this.queue.map((entry) => entry.response);
    while (this.queue.length > 0) this.complete(false);
    return owed;
  }
}

function settleOf(response: PendingResponse): Settle | undefined {
  return response.kind === 'parse' || response.kind === 'bind' || response.kind === 'close' ? response.settle : undefined;
}

/** The answers a ReadyForQuery ends: Sync, a simple Query, a refused Query's stand-in. */
function owesReadyForQuery(response: PendingResponse): boolean {
  return response.kind === 'sync' || response.kind === 'query' || (response.kind === 'refusal' && response.simple);
}
