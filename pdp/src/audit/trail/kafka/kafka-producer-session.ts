import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { compressionType, useFastGzip, type AuditCompression } from './audit-compression.ts';
import { alignTopicConfigs, auditTopicConfigs } from './audit-topic-configs.ts';
import { rememberingKeyedPartitioner } from './keyed-partitioner.ts';
import type { AuditRetention } from '../../../config/audit-retention-config.ts';
import { TOPIC_STREAMS, topicFor } from './audit-topics.ts';

export interface KafkaProducerSessionOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topicPrefix: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly compression: AuditCompression;
  readonly retention: AuditRetention;
}

/** Records of one topic as a produce request carries them. */
export interface TopicMessages {
  readonly topic: string;
  readonly messages: ReadonlyArray<{ readonly key: string; readonly value: Buffer; readonly headers: Readonly<Record<string, string>> }>;
}

/**
 * The audit topics and the idempotent producer (acks=all, one request in flight) that fills them.
 * Topics are created, or aligned to the configured retention and compression, before the first
 * send; a broker that is away fails the call and the caller tries again.
 */
export class KafkaProducerSession {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private connected = false;
  private topicsReady = false;

  constructor(private readonly options: KafkaProducerSessionOptions, private readonly log: (message: string) => void) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      // The shipping loop owns backoff: fail fast, keep the batch, try again.
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    if (options.compression === 'gzip') useFastGzip();
  }

  /** Creates or aligns the audit topics once; later calls return at once. */
  async prepare(): Promise<void> {
    if (this.topicsReady) return;
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const retentionOf = new Map(TOPIC_STREAMS.map((stream) => [topicFor(this.options.topicPrefix, stream), this.options.retention[stream]] as const));
      const missing = [...retentionOf.keys()].filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic, numPartitions: this.options.partitions, replicationFactor: this.options.replicationFactor,
            configEntries: auditTopicConfigs(retentionOf.get(topic) ?? null, this.options.compression),
          })),
        });
        this.log(`audit: created Kafka topics ${missing.join(', ')}`);
      }
      const altered = await alignTopicConfigs(admin, new Map([...retentionOf].filter(([topic]) => existing.has(topic))), this.options.compression);
      if (altered.length > 0) this.log(`audit: set the configured retention and compression on Kafka topics ${altered.join(', ')}`);
      this.topicsReady = true;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Resolves once the broker acknowledged every record (acks=all); rejects, keeping nothing, otherwise. */
  async send(topics: readonly TopicMessages[]): Promise<void> {
    await this.prepare();
    // Idempotent with one request in flight: the broker drops a batch it already has when a
    // send is retried after a lost acknowledgement, and order within a partition holds.
    this.producer ??= this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: rememberingKeyedPartitioner });
    try {
      if (!this.connected) {
        await this.producer.connect();
        this.connected = true;
      }
      await this.producer.sendBatch({
        acks: -1,
        compression: compressionType(this.options.compression),
        // kafkajs only reads the headers: records of one routing share one object.
        topicMessages: topics.map(({ topic, messages }) => ({ topic, messages: messages as Array<{ key: string; value: Buffer; headers: Record<string, string> }> })),
      });
    } catch (error) {
      this.connected = false;
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
  }
}
