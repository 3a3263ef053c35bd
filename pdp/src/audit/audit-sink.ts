/** Where audit events go. Implementations: the embedded JSONL files, Kafka (next). */
export interface AuditSink {
  /**
   * Queues an event without waiting for storage. Returns false when the sink cannot take it
   * (its bound is reached): the caller fails closed.
   */
  append(event: AuditEvent): boolean;
  /** Resolves once every event appended so far is durably stored. */
  flush(): Promise<void>;
  close(): Promise<void>;
  health(): AuditSinkHealth;
}

export type AuditStream = 'decisions' | 'sessions' | 'approvals';

export interface AuditEvent {
  readonly stream: AuditStream;
  /** Orders events of one session; the Kafka sink keys messages by it. */
  readonly key: string;
  readonly body: Record<string, unknown>;
}

export interface AuditSinkHealth {
  readonly sink: string;
  readonly status: 'ok' | 'degraded' | 'failing';
  readonly queued: number;
  readonly written: number;
  readonly rejected: number;
  readonly lastError?: string;
}
