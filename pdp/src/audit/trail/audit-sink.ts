import type { AuditStream } from '../audit-event.ts';

/** Where finished audit records go. Implementations: embedded JSONL files, Kafka. */
export interface AuditSink {
  /** False when the sink is at its bound: the caller fails closed before building a record. */
  hasCapacity(): boolean;
  /**
   * Queues a finished record without waiting for storage. Returns false when the sink cannot
   * take it: the caller fails closed. `admitted` marks a record whose decision was already
   * answered on an earlier capacity check: a fail-closed sink stores it even past its bound.
   */
  append(record: AuditRecord, admitted?: boolean): boolean;
  /** Resolves once every record appended so far is durably stored (locally at least). */
  flush(): Promise<void>;
  /**
   * How many records were appended so far, and how many of the first of them are durable
   * (fsync'd locally): a decision is answered once the count passes its record. `failure` says
   * why the last local write failed (not a remote shipping error): waiting decisions fail closed.
   */
  progress(): { readonly appended: number; readonly durable: number; readonly failure?: string };
  /** Called after each write that made records durable, and after each write that failed. */
  onProgress(listener: () => void): void;
  close(): Promise<void>;
  health(): AuditSinkHealth;
  /**
   * The JSON of the last record of each stream stored before this run, read at start: the
   * audit trail names a run that ended without a stop up to there (producer-ledger.ts).
   */
  storedTails(): Partial<Record<AuditStream, string>>;
}


/** A finished record: OCSF, chained, serialised once. Digests travel on their own stream. */
export interface AuditRecord {
  readonly stream: AuditStream | 'digests';
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly json: string;
}

export interface AuditSinkHealth {
  readonly sink: string;
  readonly status: 'ok' | 'degraded' | 'failing';
  readonly queued: number;
  readonly written: number;
  readonly rejected: number;
  readonly lastError?: string;
  readonly details?: Record<string, unknown>;
}
