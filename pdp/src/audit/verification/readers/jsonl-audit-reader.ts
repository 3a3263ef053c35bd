import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditReader, StoredRecord, StoredStream } from './audit-reader.ts';

/** Reads the embedded sink's files (`<stream>.jsonl`) line by line. */
export class JsonlAuditReader implements AuditReader {
  constructor(private readonly directory: string) {}

  get description(): string {
    return `jsonl:${this.directory}`;
  }

  async *read(stream: StoredStream): AsyncIterable<StoredRecord> {
    const file = join(this.directory, `${stream}.jsonl`);
    if (!existsSync(file)) return;
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
      yield { record, where: `${stream}.jsonl line ${number}` };
    }
  }

  async close(): Promise<void> {}
}
