import type { AuditRecord, AuditSink, AuditSinkHealth } from '../audit-sink.ts';
import { AUDIT_STREAMS, type AuditStream } from '../../audit-event.ts';
import { AuditSpool, type ShippableRecord } from './audit-spool.ts';
import type { AuditCompression } from './audit-compression.ts';
import { topicFor } from './audit-topics.ts';
import type { TopicMessages } from './kafka-producer-session.ts';
import { KafkaShipperThread } from './kafka-shipper-thread.ts';
import type { AuditRetention } from '../../../config/audit-retention-config.ts';
import type { FsyncPlacement } from '../durable-append.ts';

export interface KafkaAuditSinkOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topicPrefix: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly spoolDirectory: string;
  readonly maxSpoolBytes: number;
  /** fail-closed: a full spool refuses events (decisions deny); fail-open: drop and count. */
  readonly overflow: 'fail-closed' | 'fail-open';
  /**
   * The codec of produced batches and of the topics (`compression.type`): gzip (the default, at
   * its fastest level) stores audit records in a fraction of their bytes and every Kafka client reads it.
   */
  readonly compression: AuditCompression;
  /** sync: the spool's fsyncs are group commits that answers wait for; async: every 5 ms. */
  readonly durability: 'sync' | 'async';
  /** Per stream, applied to its topic at creation and to an existing topic that differs. */
  readonly retention: AuditRetention;
  /** Where the spool's fsyncs run (default: the pool). */
  readonly fsyncPlacement?: FsyncPlacement;
  readonly log: (message: string) => void;
}

/**
 * Niceness of the shipper thread. Answers wait on the spool's fsync, never on the broker; at 5
 * (weight 335 against 1024) the shipper still gets about a quarter of a core against one busy
 * thread, more than shipping at the PDP's peak rate took (0.12–0.13 of a core in bench:audit),
 * so the spool does not grow under load.
 */
const SHIPPER_NICENESS = 5;

const BATCH_RECORDS = 2000;
/**
 * Spooled bytes per produce request: the broker's 1 MB default bounds a batch as sent, so
 * uncompressed records stop at 1 MiB; gzip keeps audit records to a tenth or less.
 */
const BATCH_BYTES = { none: 1024 * 1024, gzip: 4 * 1024 * 1024 } as const;
/**
 * How long a small batch waits for more. Answers never wait on the broker (only on the spool's
 * fsync), so lingering costs nothing but how soon Kafka has a record, and fewer, fuller requests
 * cost the producer, the broker and the compressor less per record.
 */
const LINGER_MS = 100;

/**
 * Audit records into Kafka through a durable local spool: append() only writes the spool
 * (decisions never wait on the broker); a shipper sends spooled records in order with an
 * idempotent producer (acks=all) and moves the spool cursor once the broker acknowledged them.
 * While the broker is away records accumulate in the spool and leave, in order, when it is back.
 */
export class KafkaAuditSink implements AuditSink {
  private readonly shipper: KafkaShipperThread;
  private readonly spool: AuditSpool;
  private connected = false;
  private running = true;
  private shipping: Promise<void>;
  private shipped = 0;
  private dropped = 0;
  private sendErrors = 0;
  private lastError: string | undefined;
  private lastShippedAt: number | undefined;
  private topicsReady = false;
  /** Shrinks when the broker refuses a request as too large; grows back after successes. */
  private batchRecords = BATCH_RECORDS;

  constructor(private readonly options: KafkaAuditSinkOptions) {
    const { brokers, clientId, topicPrefix, partitions, replicationFactor, compression, retention } = options;
    this.shipper = new KafkaShipperThread({ session: { brokers, clientId, topicPrefix, partitions, replicationFactor, compression, retention }, niceness: SHIPPER_NICENESS }, options.log);
    this.spool = AuditSpool.open({ directory: options.spoolDirectory, maxBytes: options.maxSpoolBytes, segmentBytes: 16 * 1024 * 1024, syncIntervalMs: 5, durability: options.durability, ...(options.fsyncPlacement ? { fsyncPlacement: options.fsyncPlacement } : {}) });
    this.shipping = this.shipLoop();
  }

  hasCapacity(): boolean {
    return this.options.overflow === 'fail-open' || this.spool.hasCapacity();
  }

  append(record: AuditRecord, admitted = false): boolean {
    // Fail-open drops past the bound whatever was admitted; fail-closed keeps admitted records.
    const accepted = this.spool.append(
      { stream: record.stream, key: record.key, headers: record.headers, json: record.json },
      admitted && this.options.overflow === 'fail-closed',
    );
    if (accepted) return true;
    if (this.options.overflow === 'fail-open') {
      this.dropped += 1;
      return true;
    }
    return false;
  }

  flush(): Promise<void> {
    return this.spool.flush();
  }

  /**
   * Durable once fsync'd in the spool (not once the broker has it: the spool survives a crash
   * and ships after a restart). Fail-open drops count as settled, so nothing waits on them.
   */
  progress(): { appended: number; durable: number; failure?: string } {
    const failure = this.spool.lastError;
    return { appended: this.spool.appendedRecords + this.dropped, durable: this.spool.durableRecords + this.dropped, ...(failure === undefined ? {} : { failure }) };
  }

  onProgress(listener: () => void): void {
    this.spool.onProgress(listener);
  }

  storedTails(): Partial<Record<AuditStream, string>> {
    return Object.fromEntries(this.spool.lastRecords(AUDIT_STREAMS));
  }

  /** Resolves once every record appended so far has been acknowledged by the broker. */
  async drain(timeoutMs: number): Promise<void> {
    await this.spool.flush();
    const deadline = Date.now() + timeoutMs;
    while (this.spool.unshippedBytes > 0) {
      if (Date.now() > deadline) throw new Error(`audit records still waiting for Kafka after ${timeoutMs} ms (${this.lastError ?? 'no error'})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    await this.spool.flush();
    // Give the broker a short chance to take what is spooled; what it does not take stays spooled.
    await this.drain(5000).catch((error: unknown) => this.options.log(`audit: ${(error as Error).message}; they stay in the spool`));
    this.running = false;
    await this.shipping;
    await this.spool.close();
    await this.shipper.close();
  }

  health(): AuditSinkHealth {
    const unshipped = this.spool.unshippedBytes;
    const failing = this.lastError !== undefined;
    return {
      sink: `kafka:${this.options.brokers.join(',')}`,
      status: !this.spool.hasCapacity() ? 'failing' : failing ? 'degraded' : 'ok',
      queued: unshipped,
      written: this.shipped,
      rejected: this.dropped,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      details: {
        spool_bytes: unshipped,
        spool_capacity_bytes: this.options.maxSpoolBytes,
        broker_connected: this.connected,
        send_errors: this.sendErrors,
        fsyncs: this.spool.fsyncs,
        dropped_events: this.dropped,
        overflow: this.options.overflow,
        last_shipped_at: this.lastShippedAt ? new Date(this.lastShippedAt).toISOString() : null,
        // Lag: how long records have been waiting since the last successful shipment.
        lag_seconds: unshipped > 0 && this.lastShippedAt ? (Date.now() - this.lastShippedAt) / 1000 : 0,
      },
    };
  }

  private async shipLoop(): Promise<void> {
    let backoffMs = 100;
    let batch: { records: ShippableRecord[]; end: { segment: number; offset: number } } | undefined;
    while (this.running || batch) {
      try {
        // Topics exist from the start, not from the first record; a broker that is away is retried.
        if (!this.topicsReady) {
          await this.shipper.prepare();
          this.topicsReady = true;
          this.lastError = undefined;
        }
        if (!batch) {
          // Linger briefly, as Kafka producers do, so one request carries many records.
          const first = await this.spool.readBatch(this.batchRecords, BATCH_BYTES[this.options.compression], 200);
          if (!first) continue;
          if (first.records.length < this.batchRecords / 4 && this.running) {
            await new Promise((resolve) => setTimeout(resolve, LINGER_MS));
            const more = await this.spool.readBatch(this.batchRecords - first.records.length, BATCH_BYTES[this.options.compression] - first.bytes, 0);
            batch = more ? { records: first.records.concat(more.records), end: more.end } : first;
          } else {
            batch = first;
          }
        }
        await this.send(batch.records);
        this.spool.commit(batch.end);
        this.shipped += batch.records.length;
        this.lastShippedAt = Date.now();
        this.batchRecords = Math.min(BATCH_RECORDS, this.batchRecords * 2);
        if (this.lastError) this.options.log('audit: Kafka reachable again; spooled records are shipping');
        this.lastError = undefined;
        batch = undefined;
        backoffMs = 100;
      } catch (error) {
        this.sendErrors += 1;
        if (batch && batch.records.length > 1 && /too large|RECORD_LIST_TOO_LARGE|MESSAGE_TOO_LARGE/i.test(`${(error as Error).message} ${(error as { type?: string }).type ?? ''}`)) {
          // The broker's size limit, not an outage: read the same records again in smaller batches.
          this.batchRecords = Math.max(1, Math.floor(batch.records.length / 2));
          this.spool.rewind();
          batch = undefined;
          continue;
        }
        this.connected = false;
        if (!this.lastError) this.options.log(`audit: cannot ship to Kafka (${(error as Error).message}); records stay in the spool`);
        this.lastError = (error as Error).message;
        if (!this.running) break;
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  private async send(records: ShippableRecord[]): Promise<void> {
    const byTopic = new Map<string, Array<TopicMessages['messages'][number]>>();
    for (const record of records) {
      const topic = topicFor(this.options.topicPrefix, record.stream);
      const messages = byTopic.get(topic) ?? [];
      messages.push({ key: record.key, value: record.value, headers: record.headers });
      byTopic.set(topic, messages);
    }
    await this.shipper.send([...byTopic].map(([topic, messages]) => ({ topic, messages })));
    this.connected = true;
  }
}
