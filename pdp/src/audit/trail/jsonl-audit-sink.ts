import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import type { AuditRecord, AuditSink, AuditSinkHealth } from './audit-sink.ts';
import { appendDurably, FSYNC_ON_POOL, type FsyncPlacement } from './durable-append.ts';
import { AUDIT_STREAMS, type AuditStream } from '../audit-event.ts';
import type { AuditRetention, JsonlRotation } from '../../config/audit-retention-config.ts';
import { linesFromEnd } from './file-tail.ts';
import { activeFile, expireRotated, rotateActive, streamFiles } from './jsonl-rotation.ts';
import { writeRetentionManifest } from './jsonl-retention-manifest.ts';

export interface JsonlAuditSinkOptions {
  readonly directory: string;
  /** Events held in memory before append() refuses (and decisions fail closed). */
  readonly maxQueuedEvents: number;
  /** How long an event may wait for its batch (async durability). */
  readonly flushIntervalMs: number;
  /**
   * `sync`: group commit — a batch is written and fsync'd as soon as the one before it is done,
   * so whoever waits for a record waits about one fsync, and one fsync serves every record that
   * arrived meanwhile. `async`: a batch every flushIntervalMs.
   */
  readonly durability: 'sync' | 'async';
  /** When a stream's file is set aside for a new one; rotated files expire by `retention`. */
  readonly rotation: JsonlRotation;
  readonly retention: AuditRetention;
  /** Where each batch's fsync runs (default: the pool). */
  readonly fsyncPlacement?: FsyncPlacement;
  readonly log?: (message: string) => void;
}

/** The active file of a stream: its descriptor, its size and since when it has been written. */
interface ActiveFile {
  readonly fd: number;
  bytes: number;
  readonly since: number;
}

/**
 * The embedded audit sink: one append-only JSON-lines file per stream, written in batches
 * off the hot path and fsync'd per batch, so an acknowledged flush survives a crash. Batches are
 * written in append order, so "durable" is a count of the first records appended.
 */
export class JsonlAuditSink implements AuditSink {
  private queue: AuditRecord[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly files = new Map<AuditRecord['stream'], ActiveFile>();
  private written = 0;
  /** Appends made durable (one fdatasync each). */
  private fsyncs = 0;
  /** Records of a failed batch whose streams were already stored: counted durable with the retry. */
  private storedAhead = 0;
  private rejected = 0;
  private lastError: string | undefined;
  private closed = false;
  private appended = 0;
  private readonly listeners: Array<() => void> = [];
  /** Streams whose torn tail the constructor could not check: checked on first open instead. */
  private readonly unrepaired = new Set<AuditRecord['stream']>();

  constructor(private readonly options: JsonlAuditSinkOptions) {
    mkdirSync(options.directory, { recursive: true, mode: 0o700 });
    // The folder states what it is expired by, for a reader without this configuration (AU-11).
    writeRetentionManifest(options.directory, options.retention, options.rotation);
    // Every stream at once, not only those this run goes on to write: a stream left torn by a
    // crash and never written again would keep its half line for good.
    for (const stream of [...AUDIT_STREAMS, 'digests'] as const) {
      try {
        const cut = repairTornTail(activeFile(options.directory, stream));
        if (cut > 0) options.log?.(`audit: cut ${cut} byte(s) of an unterminated line off the end of ${stream}: a write a crash cut short before it was stored`);
      } catch {
        // Not a file one can repair (a folder in its place): tried again as it is first opened,
        // where the write reports why.
        this.unrepaired.add(stream);
      }
    }
  }

  /** A write that failed (fsync error, disk full) refuses new records until a retry succeeds. */
  hasCapacity(): boolean {
    return !this.closed && this.lastError === undefined && this.queue.length < this.options.maxQueuedEvents;
  }

  append(record: AuditRecord, admitted = false): boolean {
    if (this.closed || (!admitted && !this.hasCapacity())) {
      this.rejected += 1;
      return false;
    }
    this.queue.push(record);
    this.appended += 1;
    this.schedule();
    return true;
  }

  progress(): { appended: number; durable: number; failure?: string } {
    return { appended: this.appended, durable: this.written, ...(this.lastError === undefined ? {} : { failure: this.lastError }) };
  }

  onProgress(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The next batch: right after this turn of the event loop (sync), or within the flush interval. */
  private schedule(): void {
    if (this.timer || this.immediate || this.writing) return;
    if (this.options.durability === 'sync') {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        void this.drain();
      });
    } else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, this.options.flushIntervalMs);
    }
  }

  private cancelScheduled(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  async flush(): Promise<void> {
    this.cancelScheduled();
    // Loop: events may arrive while a batch is being written.
    while (this.queue.length > 0 || this.writing) {
      await this.drain();
      if (this.lastError) throw new Error(`audit sink cannot write: ${this.lastError}`);
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    for (const file of this.files.values()) closeSync(file.fd);
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
      details: { fsyncs: this.fsyncs },
    };
  }

  storedTails(): Partial<Record<AuditStream, string>> {
    const tails: Partial<Record<AuditStream, string>> = {};
    for (const stream of AUDIT_STREAMS) {
      // Newest file first: a freshly rotated stream's last record is in the file before.
      for (const path of streamFiles(this.options.directory, stream).reverse()) {
        // Something else in its place, which appending will report: no stored tail.
        if (!statSync(path).isFile()) break;
        for (const line of linesFromEnd(path)) {
          tails[stream] = line;
          break;
        }
        if (tails[stream] !== undefined) break;
      }
    }
    return tails;
  }

  private drain(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.queue.length === 0) return Promise.resolve();
    const batch = this.queue;
    this.queue = [];
    this.writing = this.writeBatch(batch).finally(() => {
      this.writing = undefined;
      // Group commit: what arrived during this write goes in the next one, at once.
      if (this.queue.length > 0 && !this.lastError) this.schedule();
      for (const listener of this.listeners) listener();
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
    const stored = new Set<AuditRecord['stream']>();
    const fsync = { placement: this.options.fsyncPlacement ?? FSYNC_ON_POOL, records: batch.length };
    try {
      // Digests and checkpoints last: one never reaches the disk before the records it attests.
      const ordered = [...byStream].sort(([a], [b]) => Number(a === 'digests') - Number(b === 'digests'));
      for (const [stream, lines] of ordered) {
        this.rotateIfDue(stream);
        const file = this.file(stream);
        const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
        await appendDurably(file.fd, bytes, file.bytes, fsync);
        this.fsyncs += 1;
        file.bytes += bytes.length;
        stored.add(stream);
      }
      this.written += batch.length + this.storedAhead;
      this.storedAhead = 0;
      this.lastError = undefined;
    } catch (error) {
      // Keep what is not stored yet, in front, and retry on the next tick of the timer; a stream
      // already stored is not written again (its records count as durable with the retry).
      const unstored = batch.filter((record) => !stored.has(record.stream));
      this.storedAhead += batch.length - unstored.length;
      this.queue = unstored.concat(this.queue);
      this.lastError = (error as Error).message;
      this.cancelScheduled();
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, 1000);
    }
  }

  private file(stream: AuditRecord['stream']): ActiveFile {
    let file = this.files.get(stream);
    if (!file) {
      const path = activeFile(this.options.directory, stream);
      if (this.unrepaired.delete(stream)) repairTornTail(path);
      const stat = existsSync(path) ? statSync(path) : undefined;
      file = { fd: openSync(path, 'a', 0o600), bytes: stat?.size ?? 0, since: stat && stat.size > 0 ? (stat.birthtimeMs || stat.mtimeMs) : Date.now() };
      this.files.set(stream, file);
    }
    return file;
  }

  /**
   * A full or old active file is set aside before the next batch, never inside one, so a batch
   * stays whole in one file; rotated files older than the stream's retention are then deleted.
   */
  private rotateIfDue(stream: AuditRecord['stream']): void {
    const file = this.file(stream);
    const now = Date.now();
    if (file.bytes === 0 || (file.bytes < this.options.rotation.maxBytes && now - file.since < this.options.rotation.maxAgeMs)) return;
    closeSync(file.fd);
    this.files.delete(stream);
    rotateActive(this.options.directory, stream, now);
    const expired = expireRotated(this.options.directory, stream, this.options.retention[stream], now);
    if (expired.length > 0) this.options.log?.(`audit: ${expired.length} ${stream} file(s) older than the retention expired`);
  }
}

/**
 * A crash mid-write can leave half a line at the end of a file: a batch whose fsync never
 * returned, so no answer waited on it (SIGKILL can cut even one write() short). Cut it back to
 * its last complete line before appending; returns how many bytes were cut.
 */
function repairTornTail(path: string): number {
  if (!existsSync(path)) return 0;
  const fd = openSync(path, 'r+');
  try {
    let end = fstatSync(fd).size;
    const chunk = Buffer.alloc(64 * 1024);
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const read = readSync(fd, chunk, 0, end - start, start);
      const newline = chunk.subarray(0, read).lastIndexOf(0x0a);
      if (newline !== -1) {
        end = start + newline + 1;
        break;
      }
      end = start;
    }
    const size = fstatSync(fd).size;
    if (end === size) return 0;
    ftruncateSync(fd, end);
    fsyncSync(fd);
    return size - end;
  } finally {
    closeSync(fd);
  }
}
