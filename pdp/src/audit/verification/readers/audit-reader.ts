/** One stored record and where it was found, so a verifier can name it. */
export interface StoredRecord {
  readonly record: unknown;
  /** e.g. "portcullis.decisions.v1 partition 0 offset 17" or "decisions.jsonl line 12". */
  readonly where: string;
}

export type StoredStream = 'decisions' | 'sessions' | 'approvals' | 'digests';

/** Reads what an audit sink stored, stream by stream, from the beginning to the end now. */
export interface AuditReader {
  readonly description: string;
  read(stream: StoredStream): AsyncIterable<StoredRecord>;
  close(): Promise<void>;
}
