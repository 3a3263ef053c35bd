import { Kafka, logLevel, type Producer } from 'kafkajs';
import { BUNDLE_DIGEST_HEADER, bundleTopic } from './bundle-archive-layout.ts';

export interface KafkaBundlePublisherOptions {
  readonly brokers: readonly string[];
  readonly topicPrefix: string;
  readonly replicationFactor: number;
  readonly log: (message: string) => void;
}

interface Pending {
  readonly revision: string;
  readonly digest: string;
  readonly archive: Buffer;
}

/** Compaction keeps the last bundle of each revision: the archive never ages out like a record topic. */
const TOPIC_CONFIG = [
  { name: 'cleanup.policy', value: 'compact' },
  // A bundle is one message; the PDP takes bundles up to 256 MiB unpacked, far less packed.
  { name: 'max.message.bytes', value: String(64 * 1024 * 1024) },
];
const RETRY_MS = [250, 1000, 5000, 15_000];

/**
 * Publishes kept bundles to the compacted `<prefix>.bundles.v1` topic, key = revision, value =
 * the exact archive bytes, the content digest in a header. Off the activation's path: the
 * folder archive is the durable copy; a broker that is away gets the bundle when it is back
 * (and every kept bundle again at the next start).
 */
export class KafkaBundlePublisher {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private readonly queue: Pending[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  private wakeRetry: (() => void) | undefined;

  constructor(private readonly options: KafkaBundlePublisherOptions) {
    this.kafka = new Kafka({ clientId: 'portcullis-bundle-archive', brokers: [...options.brokers], logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 30_000, retry: { retries: 0 } });
  }

  get topic(): string {
    return bundleTopic(this.options.topicPrefix);
  }

  publish(revision: string, digest: string, archive: Buffer): void {
    if (this.stopped) return;
    this.queue.push({ revision, digest, archive });
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once everything queued is published (or the publisher is stopped). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wakeRetry?.();
    await this.running;
    await this.producer?.disconnect().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    let failures = 0;
    while (!this.stopped && this.queue.length > 0) {
      const next = this.queue[0]!;
      try {
        await this.send(next);
        this.queue.shift();
        failures = 0;
      } catch (error) {
        if (failures === 0) this.options.log(`bundle archive: revision ${next.revision} not yet on ${this.topic} (${(error as Error).message}); retrying`);
        await this.producer?.disconnect().catch(() => undefined);
        this.producer = undefined;
        const delay = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]!;
        failures += 1;
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve;
          setTimeout(resolve, delay).unref();
        });
        this.wakeRetry = undefined;
      }
    }
  }

  private async send(pending: Pending): Promise<void> {
    if (!this.producer) {
      await this.ensureTopic();
      // Not idempotent: a bundle sent twice is the same bytes under the same key, which compaction folds.
      const producer = this.kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      this.producer = producer;
    }
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [{ key: pending.revision, value: pending.archive, headers: { [BUNDLE_DIGEST_HEADER]: pending.digest } }],
    });
  }

  private async ensureTopic(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      if ((await admin.listTopics()).includes(this.topic)) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: this.topic, numPartitions: 1, replicationFactor: this.options.replicationFactor, configEntries: TOPIC_CONFIG }],
      }).catch((error: Error) => {
        // Another PDP created it meanwhile: that is the topic wanted.
        if (!/already exists/i.test(error.message)) throw error;
      });
    } finally {
      await admin.disconnect();
    }
  }
}
