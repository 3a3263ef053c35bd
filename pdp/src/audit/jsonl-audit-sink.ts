import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditRecord, AuditSink, AuditSinkHealth } from './audit-sink.ts';

export interface JsonlAuditSinkOptions {
  readonly directory: string;
  /** Events held in memory before append() refuses (and decisions fail closed). */
  readonly maxQueuedEvents: number;
  /** How long an event may wait for its batch. */
  readonly flushIntervalMs: number;
}

/**
 * The embedded audit sink: one append-only JSON-lines file per stream, written in batches
 * off the hot path and fsync'd per batch, so an acknowledged flush survives a crash.
 */
export class JsonlAuditSink implements AuditSink {
  private queue: AuditRecord[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly files = new Map<AuditRecord['stream'], Promise<FileHandle>>();
  private written = 0;
  private rejected = 0;
  private lastError: string | undefined;
  private closed = false;

  constructor(private readonly options: JsonlAuditSinkOptions) {
    mkdirSync(options.directory, { recursive: true, mode: 0o700 });
  }

  hasCapacity(): boolean {
    return !this.closed && this.queue.length < this.options.maxQueuedEvents;
  }

  append(record: AuditRecord, admitted = false): boolean {
    if (this.closed || (!admitted && !this.hasCapacity())) {
      this.rejected += 1;
      return false;
    }
    this.queue.push(record);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, this.options.flushIntervalMs);
    return true;
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // Loop: events may arrive while a batch is being written.
    while (this.queue.length > 0 || this.writing) {
      await this.drain();
      if (this.lastError) throw new Error(`audit sink cannot write: ${this.lastError}`);
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    for (const handle of this.files.values()) await (await handle).close();
    this.files.clear();
  }

  health(): AuditSinkHealth {
    const status = this.lastError ? 'failing' : this.queue.length > this.options.maxQueuedEvents / 2 ? 'degraded' : 'ok';
    return {
      sink: `jsonl:${this.options.directory}`,
      status,
      queued: this.queue.length,
      written: this.written,
      rejected: this.rejected,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private drain(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.queue.length === 0) return Promise.resolve();
    const batch = this.queue;
    this.queue = [];
    this.writing = this.writeBatch(batch).finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async writeBatch(batch: AuditRecord[]): Promise<void> {
    const byStream = new Map<AuditRecord['stream'], string[]>();
    for (const record of batch) {
      const lines = byStream.get(record.stream) ?? [];
      lines.push(record.json);
      byStream.set(record.stream, lines);
    }
    try {
      // Digests and checkpoints last: one never reaches the disk before the records it attests.
      const ordered = [...byStream].sort(([a], [b]) => Number(a === 'digests') - Number(b === 'digests'));
      for (const [stream, lines] of ordered) {
        const handle = await this.file(stream);
        await handle.appendFile(`${lines.join('\n')}\n`);
        await handle.datasync();
      }
      this.written += batch.length;
      this.lastError = undefined;
    } catch (error) {
      // Keep the events: put them back in front and retry on the next tick of the timer.
      this.queue = batch.concat(this.queue);
      this.lastError = (error as Error).message;
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, 1000);
    }
  }

  private file(stream: AuditRecord['stream']): Promise<FileHandle> {
    let handle = this.files.get(stream);
    if (!handle) {
      handle = open(join(this.options.directory, `${stream}.jsonl`), 'a', 0o600);
      this.files.set(stream, handle);
    }
    return handle;
  }
}
