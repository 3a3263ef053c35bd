import { closeSync, createReadStream, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditRetention } from '../../../config/audit-retention-config.ts';
import { activeFile, streamFiles } from '../../trail/jsonl-rotation.ts';
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
    const active = activeFile(this.directory, stream);
    for (const file of streamFiles(this.directory, stream)) yield* this.readFile(file, file === active);
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

  /** `active`: the file appended to, the only one a crash can leave cut short at its end (a file is repaired before it is rotated). */
  private async *readFile(file: string, active: boolean): AsyncIterable<StoredRecord> {
    if (!existsSync(file)) return;
    const name = basename(file);
    // One descriptor measures and reads: up to the size seen now, so a writer appending meanwhile
    // cannot tear the last line read, and a rotation meanwhile cannot swap the file under it.
    const fd = openSync(file, 'r');
    let measured: { size: number; endsWithNewline: boolean };
    try {
      measured = measure(fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    const { size, endsWithNewline } = measured;
    if (size === 0) {
      closeSync(fd);
      return;
    }
    const endsUnterminated = active && !endsWithNewline;
    const lines = createInterface({ input: createReadStream(file, { fd, encoding: 'utf8', start: 0, end: size - 1 }), crlfDelay: Infinity });
    let number = 0;
    // One line held back: only once the next arrives is it known not to be the file's last.
    let held: StoredRecord | undefined;
    for await (const line of lines) {
      number += 1;
      if (line.trim() === '') continue;
      if (held) yield held;
      held = { record: parseLine(line), where: `${name} line ${number}` };
    }
    if (held) yield endsUnterminated ? { ...held, tornTail: true } : held;
  }

  async close(): Promise<void> {}
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    // An unparseable line is still a record: the verifier reports it, it is never skipped.
    return { unparseable: line.slice(0, 200) };
  }
}

function measure(fd: number): { size: number; endsWithNewline: boolean } {
  const size = fstatSync(fd).size;
  if (size === 0) return { size, endsWithNewline: true };
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return { size, endsWithNewline: last[0] === 0x0a };
}
