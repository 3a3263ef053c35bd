import type { AuditStream } from '../../audit-event.ts';

/** One stored record and where it was found, so a verifier can name it. */
export interface StoredRecord {
  readonly record: unknown;
  /** e.g. "portcullis.decisions.v1 partition 0 offset 17" or "decisions.jsonl line 12". */
  readonly where: string;
  /**
   * The bytes after the last newline of a stream's newest file: a write a crash cut short before
   * it was acknowledged. Reported, not failed, unless it parses as a record.
   */
  readonly tornTail?: boolean;
}

export type StoredStream = AuditStream | 'digests';

/** Per stream: its retention in ms (null: kept for ever) and where that was read. */
export type StoredRetention = Partial<Record<StoredStream, { readonly retention_ms: number | null; readonly source: string }>>;

/** Reads what an audit sink stored, stream by stream, from the beginning to the end now. */
export interface AuditReader {
  readonly description: string;
  read(stream: StoredStream): AsyncIterable<StoredRecord>;
  /** How long the store keeps each stream (ms, null: for ever), as the store itself is set. */
  retention(): Promise<StoredRetention>;
  close(): Promise<void>;
}
