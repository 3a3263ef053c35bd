import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, ftruncateSync, readSync, unlinkSync, writeFileSync } from 'node:fs';
import { appendDurably, FSYNC_ON_POOL, type FsyncPlacement } from '../durable-append.ts';
import { join } from 'node:path';
import { linesFromEnd } from '../file-tail.ts';

/** One record as it waits for the broker: where it goes and its exact JSON. */
export interface SpooledRecord {
  readonly stream: string;
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly json: string;
}

/** A record read back to be shipped: its JSON as the bytes stored, never decoded and encoded again. */
export interface ShippableRecord {
  readonly stream: string;
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly value: Buffer;
}

type Routing = Pick<ShippableRecord, 'stream' | 'key' | 'headers'>;

/** Routing texts parsed once: a producer writes one per stream, repeated on every line. */
const MAX_REMEMBERED_ROUTINGS = 256;

export interface SpoolPosition {
  readonly segment: number;
  readonly offset: number;
}

export interface AuditSpoolOptions {
  readonly directory: string;
  /** Unshipped bytes beyond which append() refuses. */
  readonly maxBytes: number;
  readonly segmentBytes: number;
  /** How long an appended record may wait for its batch's fsync (async durability). */
  readonly syncIntervalMs: number;
  /** `sync`: group commit — the next fsync starts as soon as the one before it is done. */
  readonly durability: 'sync' | 'async';
  /** How often a commit rewrites the cursor file at most (default 1 s); shipped segments and close always do. */
  readonly cursorSyncIntervalMs?: number;
  /** Where each group commit's fsync runs (default: the pool). */
  readonly fsyncPlacement?: FsyncPlacement;
}

const SEGMENT = /^spool-(\d{8})\.log$/;
const segmentName = (index: number): string => `spool-${String(index).padStart(8, '0')}.log`;

/**
 * The write-ahead log in front of the broker. Every record is appended here and fsync'd in
 * batches before it is shipped, and stays until the broker acknowledged it, so neither a broker
 * outage nor a PDP crash loses an event. Records leave in the order they came in.
 */
export class AuditSpool {
  private pending: string[] = [];
  private pendingBytes = 0;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  /** The descriptor of the segment being written. */
  private writer: number | undefined;
  private writeSegment: number;
  private writeOffset: number;
  /** Bytes per segment that are durable on disk. */
  private readonly durable = new Map<number, number>();
  private cursor: SpoolPosition;
  private readPosition: SpoolPosition;
  private readonly waiters: Array<() => void> = [];
  private closed = false;
  private lastCursorSync = 0;
  private syncImmediate: NodeJS.Immediate | undefined;
  /** Records appended, and how many of the first of them are fsync'd. */
  appendedRecords = 0;
  durableRecords = 0;
  /** Group commits made durable (one fdatasync each). */
  fsyncs = 0;
  private readonly progressListeners: Array<() => void> = [];
  private readonly routings = new Map<string, Routing>();
  lastError: string | undefined;

  private constructor(private readonly options: AuditSpoolOptions) {
    mkdirSync(options.directory, { recursive: true, mode: 0o700 });
    const segments = readdirSync(options.directory).map((name) => SEGMENT.exec(name)).filter((match) => match !== null).map((match) => Number(match[1])).sort((a, b) => a - b);
    for (const segment of segments) this.durable.set(segment, this.repairTail(segment));
    this.cursor = this.readCursor(segments);
    if (segments.length > 0 && !this.durable.has(this.cursor.segment)) {
      // The cursor's segment is gone (removed by hand): ship whatever is left, from the start.
      this.cursor = { segment: segments[0]!, offset: 0 };
    }
    this.readPosition = this.cursor;
    this.writeSegment = segments.at(-1) ?? this.cursor.segment;
    this.writeOffset = this.durable.get(this.writeSegment) ?? 0;
    if (!this.durable.has(this.writeSegment)) this.durable.set(this.writeSegment, 0);
  }

  static open(options: AuditSpoolOptions): AuditSpool {
    return new AuditSpool(options);
  }

  /** Bytes appended (durable or not) that the broker has not acknowledged yet. */
  get unshippedBytes(): number {
    let total = this.pendingBytes;
    for (const [segment, size] of this.durable) {
      if (segment > this.cursor.segment) total += size;
      else if (segment === this.cursor.segment) total += size - this.cursor.offset;
    }
    return total;
  }

  /** A failed fsync refuses new records until a retry succeeds. */
  hasCapacity(): boolean {
    return !this.closed && this.lastError === undefined && this.unshippedBytes < this.options.maxBytes;
  }

  onProgress(listener: () => void): void {
    this.progressListeners.push(listener);
  }

  /** `beyondBound` stores a record even past maxBytes (it was admitted on an earlier check). */
  append(record: SpooledRecord, beyondBound = false): boolean {
    if (this.closed || (!beyondBound && !this.hasCapacity())) return false;
    // `<routing JSON>\t<record JSON>`: JSON never contains a raw tab, and the record's own text
    // is stored and shipped byte for byte, never parsed again.
    const line = `${JSON.stringify({ stream: record.stream, key: record.key, headers: record.headers })}\t${record.json}\n`;
    this.pending.push(line);
    this.pendingBytes += Buffer.byteLength(line);
    this.appendedRecords += 1;
    this.scheduleSync();
    return true;
  }

  private scheduleSync(): void {
    if (this.syncTimer || this.syncImmediate || this.syncing) return;
    if (this.options.durability === 'sync') {
      this.syncImmediate = setImmediate(() => {
        this.syncImmediate = undefined;
        void this.sync();
      });
    } else {
      this.syncTimer = setTimeout(() => {
        this.syncTimer = undefined;
        void this.sync();
      }, this.options.syncIntervalMs);
    }
  }

  /** Resolves once everything appended so far is fsync'd. */
  async flush(): Promise<void> {
    if (this.syncTimer) {
      clearTimeout(this.syncTimer);
      this.syncTimer = undefined;
    }
    if (this.syncImmediate) {
      clearImmediate(this.syncImmediate);
      this.syncImmediate = undefined;
    }
    while (this.pending.length > 0 || this.syncing) {
      await this.sync();
      if (this.lastError) throw new Error(`audit spool cannot write: ${this.lastError}`);
    }
  }

  /**
   * Reads the next durable records after the last read (not the last commit: the caller keeps a
   * batch until the broker took it). Waits up to `waitMs` for new records; undefined if none.
   */
  async readBatch(maxRecords: number, maxBytes: number, waitMs: number): Promise<{ records: ShippableRecord[]; end: SpoolPosition; bytes: number } | undefined> {
    if (!this.hasDurableAfter(this.readPosition)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const records: ShippableRecord[] = [];
    let position = this.readPosition;
    let bytes = 0;
    while (records.length < maxRecords && bytes < maxBytes) {
      const size = this.durable.get(position.segment);
      if (size === undefined) break;
      if (position.offset >= size) {
        if (!this.durable.has(position.segment + 1)) break;
        position = { segment: position.segment + 1, offset: 0 };
        continue;
      }
      const chunk = this.readRange(position.segment, position.offset, Math.min(size, position.offset + Math.max(maxBytes - bytes, 64 * 1024)));
      const lastNewline = chunk.lastIndexOf(0x0a);
      if (lastNewline === -1) break;
      let start = 0;
      while (start <= lastNewline && records.length < maxRecords) {
        const end = chunk.indexOf(0x0a, start);
        const tab = chunk.indexOf(0x09, start);
        const routing = this.routingOf(chunk.subarray(start, tab).toString('utf8'));
        records.push({ stream: routing.stream, key: routing.key, headers: routing.headers, value: chunk.subarray(tab + 1, end) });
        bytes += end + 1 - start;
        start = end + 1;
      }
      position = { segment: position.segment, offset: position.offset + start };
    }
    if (records.length === 0) return undefined;
    this.readPosition = position;
    return { records, end: position, bytes };
  }

  private routingOf(text: string): Routing {
    let routing = this.routings.get(text);
    if (routing === undefined) {
      routing = JSON.parse(text) as Routing;
      if (this.routings.size < MAX_REMEMBERED_ROUTINGS) this.routings.set(text, routing);
    }
    return routing;
  }

  /**
   * The broker has everything up to `end`: move the cursor and drop shipped segments. The
   * cursor file is replaced atomically (and fsync'd) at most once a second, before a shipped
   * segment is removed, and on close — not on every batch, which cost a write and a rename per
   * produce request: a crash can only make the next start resend what the broker already has
   * (the verifier reports such duplicates as harmless), never skip a record.
   */
  commit(end: SpoolPosition): void {
    this.cursor = end;
    const shipped = [...this.durable.keys()].filter((segment) => segment < end.segment);
    if (shipped.length > 0 || Date.now() - this.lastCursorSync >= (this.options.cursorSyncIntervalMs ?? 1000)) this.persistCursor();
    for (const segment of shipped) {
      unlinkSync(join(this.options.directory, segmentName(segment)));
      this.durable.delete(segment);
    }
  }

  private persistCursor(): void {
    const temp = join(this.options.directory, 'cursor.json.tmp');
    writeFileSync(temp, JSON.stringify(this.cursor));
    const fd = openSync(temp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(this.options.directory, 'cursor.json'));
    this.lastCursorSync = Date.now();
  }

  /**
   * The JSON of the last record of each of `streams` in the spool, shipped or not (the segment
   * being written is kept after shipping), newest segment first; call before appending.
   */
  lastRecords(streams: readonly string[]): Map<string, string> {
    const found = new Map<string, string>();
    for (const segment of [...this.durable.keys()].sort((a, b) => b - a)) {
      const path = join(this.options.directory, segmentName(segment));
      if (!existsSync(path)) continue;
      for (const line of linesFromEnd(path)) {
        const tab = line.indexOf('\t');
        const { stream } = JSON.parse(line.slice(0, tab)) as { stream: string };
        if (streams.includes(stream) && !found.has(stream)) found.set(stream, line.slice(tab + 1));
        if (found.size === streams.length) return found;
      }
    }
    return found;
  }

  /** Forget what was read but not committed: the next read starts at the cursor again. */
  rewind(): void {
    this.readPosition = this.cursor;
  }

  async close(): Promise<void> {
    await this.flush();
    this.persistCursor();
    this.closed = true;
    if (this.writer !== undefined) closeSync(this.writer);
    this.writer = undefined;
    for (const wake of this.waiters.splice(0)) wake();
  }

  private hasDurableAfter(position: SpoolPosition): boolean {
    for (const [segment, size] of this.durable) {
      if (segment > position.segment && size > 0) return true;
      if (segment === position.segment && size > position.offset) return true;
    }
    return false;
  }

  private sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    if (this.pending.length === 0) return Promise.resolve();
    const lines = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.syncing = this.writeDurably(lines.join(''), bytes, lines).finally(() => {
      this.syncing = undefined;
      // Group commit: what arrived during this fsync goes in the next one, at once.
      if (this.pending.length > 0 && this.lastError === undefined) this.scheduleSync();
      for (const listener of this.progressListeners) listener();
    });
    return this.syncing;
  }

  /** A failed write or fsync is cut back to the segment's durable size (appendDurably): its offsets keep matching its lines. */
  private async writeDurably(text: string, bytes: number, lines: string[]): Promise<void> {
    try {
      if (this.writeOffset > 0 && this.writeOffset + bytes > this.options.segmentBytes) {
        if (this.writer !== undefined) closeSync(this.writer);
        this.writer = undefined;
        this.writeSegment += 1;
        this.writeOffset = 0;
        this.durable.set(this.writeSegment, 0);
      }
      this.writer ??= openSync(join(this.options.directory, segmentName(this.writeSegment)), 'a', 0o600);
      await appendDurably(this.writer, Buffer.from(text, 'utf8'), this.writeOffset, { placement: this.options.fsyncPlacement ?? FSYNC_ON_POOL, records: lines.length });
      this.fsyncs += 1;
      this.writeOffset += bytes;
      this.durable.set(this.writeSegment, this.writeOffset);
      this.durableRecords += lines.length;
      this.lastError = undefined;
      for (const wake of this.waiters.splice(0)) wake();
    } catch (error) {
      // Keep the lines in front and try again shortly; append() keeps refusing past the bound.
      this.pending = lines.concat(this.pending);
      this.pendingBytes += bytes;
      this.lastError = (error as Error).message;
      this.syncTimer ??= setTimeout(() => {
        this.syncTimer = undefined;
        void this.sync();
      }, 500);
    }
  }

  private readRange(segment: number, from: number, to: number): Buffer {
    const fd = openSync(join(this.options.directory, segmentName(segment)), 'r');
    try {
      const buffer = Buffer.alloc(to - from);
      const read = readSync(fd, buffer, 0, buffer.length, from);
      return buffer.subarray(0, read);
    } finally {
      closeSync(fd);
    }
  }

  /** A crash mid-write can leave half a line: cut the segment back to its last complete line. */
  private repairTail(segment: number): number {
    const path = join(this.options.directory, segmentName(segment));
    const size = statSync(path).size;
    if (size === 0) return 0;
    const tail = this.readRange(segment, Math.max(0, size - 1), size);
    if (tail[0] === 0x0a) return size;
    const whole = readFileSync(path);
    const keep = whole.lastIndexOf(0x0a) + 1;
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, keep);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return keep;
  }

  private readCursor(segments: number[]): SpoolPosition {
    const file = join(this.options.directory, 'cursor.json');
    if (existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as SpoolPosition;
      if (Number.isInteger(saved.segment) && Number.isInteger(saved.offset)) return saved;
    }
    return { segment: segments[0] ?? 1, offset: 0 };
  }
}
