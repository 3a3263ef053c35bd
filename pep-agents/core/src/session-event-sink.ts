import type { SessionEventV1 } from '@portcullis/contract';

export interface SessionSinkStats {
  /** Events handed to the sink. */
  readonly submitted: number;
  /** Events the PDP (or the sink's store) took. */
  readonly shipped: number;
  /** Events refused at submit because memory was full or the sink was closed. */
  readonly dropped: number;
  /** Events the PDP refused as invalid; resending them would not help. */
  readonly rejected: number;
  /** Events still queued when close gave up. */
  readonly lost: number;
  /** Events waiting to ship now. */
  readonly pending: number;
}

/**
 * Where session events go. `submit` never waits and never throws, so recording cannot slow or
 * break the data path; `close` ships what is queued before it resolves.
 */
export interface SessionEventSink {
  /** False when the event was dropped (the count shows in stats). */
  submit(event: SessionEventV1): boolean;
  /**
   * Whether a new statement's record would be kept. A PEP asks before it runs a statement and
   * refuses the statement when not (no record, no action), so statement records are never dropped.
   */
  hasCapacity(): boolean;
  /**
   * Resolves true as soon as `hasCapacity()` would, false when it still would not after
   * `timeoutMs` (or the sink closed): a PEP waits here rather than refuse a statement at once
   * when the record is only behind, so a busy session slows to the pace its record keeps.
   */
  waitForCapacity(timeoutMs: number): Promise<boolean>;
  /** Ships everything queued now; resolves (never rejects) when done or when it gave up for now. */
  flush(): Promise<void>;
  /** Flushes, then refuses further events. */
  close(): Promise<SessionSinkStats>;
  stats(): SessionSinkStats;
}
