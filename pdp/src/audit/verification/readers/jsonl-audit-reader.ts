import { createReadStream, existsSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditRetention } from '../../../config/audit-retention-config.ts';
import { streamFiles } from '../../trail/jsonl-rotation.ts';
import { readRetentionManifest, RETENTION_MANIFEST } from '../../trail/jsonl-retention-manifest.ts';
import type { AuditReader, StoredRecord, StoredRetention, StoredStream } from './audit-reader.ts';

/** Reads the embedded sink's files (`<stream>.jsonl`, after the rotated ones, oldest first) line by line. */
export class JsonlAuditReader implements AuditReader {
  /** `configured`: the retention the files are expired by, when the reader runs with the PDP's configuration. */
  constructor(private readonly directory: string, private readonly configured?: AuditRetention) {}

  get description(): string {
    return `jsonl:${this.directory}`;
  }

  async *read(stream: StoredStream): AsyncIterable<StoredRecord> {
    for (const file of streamFiles(this.directory, stream)) yield* this.readFile(file);
  }

  /**
   * What the sink that wrote the folder stated beside the files (retention.json), else the
   * configuration this reader runs with; the manifest first, as it is what the writer applied.
   */
  async retention(): Promise<StoredRetention> {
    const manifest = readRetentionManifest(this.directory);
    if (manifest) {
      const source = `${RETENTION_MANIFEST} beside the files (written by the PDP's JSONL sink at ${manifest.written_at}), applied to rotated files`;
      return Object.fromEntries(Object.entries(manifest.retention_ms).map(([stream, ms]) => [stream, { retention_ms: ms, source }]));
    }
    if (!this.configured) return {};
    const source = 'the PDP configuration (PORTCULLIS_AUDIT_RETENTION*), applied to rotated files';
    return Object.fromEntries(Object.entries(this.configured).map(([stream, ms]) => [stream, { retention_ms: ms, source }]));
  }

  private async *readFile(file: string): AsyncIterable<StoredRecord> {
    if (!existsSync(file)) return;
    const name = basename(file);
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    let number = 0;
    for await (const line of lines) {
      number += 1;
      if (line.trim() === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(line) as unknown;
      } catch {
        // An unparseable line is still a record: the verifier reports it, it is never skipped.
        record = { unparseable: line.slice(0, 200) };
      }
      yield { record, where: `${name} line ${number}` };
    }
  }

  async close(): Promise<void> {}
}
