import { randomUUID } from 'node:crypto';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { topicFor } from '../../trail/kafka/audit-topics.ts';
import { RETAINED_STREAMS } from '../../../config/audit-retention-config.ts';
import type { AuditReader, StoredRecord, StoredRetention, StoredStream } from './audit-reader.ts';

// kafkajs is CommonJS and Node's loader does not see this enum as a named export.
const { ConfigResourceTypes } = kafkajs;

/**
 * Reads a topic from the beginning up to its end at the time of the call, through a throw-away
 * consumer group that is deleted afterwards, so an auditor's reads leave no trace on offsets.
 */
export class KafkaAuditReader implements AuditReader {
  private readonly kafka: Kafka;

  constructor(private readonly brokers: readonly string[], private readonly topicPrefix: string) {
    this.kafka = new Kafka({ clientId: 'portcullis-audit-reader', brokers: [...brokers], logLevel: logLevel.NOTHING, connectionTimeout: 5000, retry: { retries: 3 } });
  }

  get description(): string {
    return `kafka:${this.brokers.join(',')} topics ${this.topicPrefix}.*.v1`;
  }

  async *read(stream: StoredStream): AsyncIterable<StoredRecord> {
    const topic = topicFor(this.topicPrefix, stream);
    const admin = this.kafka.admin();
    await admin.connect();
    let ends: Map<number, bigint>;
    try {
      if (!(await admin.listTopics()).includes(topic)) return;
      const offsets = await retryWhileRetriable(() => admin.fetchTopicOffsets(topic));
      // A partition whose records all aged out (retention) has low = high: nothing to wait for.
      ends = new Map(offsets.filter((entry) => BigInt(entry.high) > BigInt(entry.low)).map((entry) => [entry.partition, BigInt(entry.high)]));
    } finally {
      await admin.disconnect();
    }
    const remaining = new Map([...ends].filter(([, high]) => high > 0n));
    if (remaining.size === 0) return;

    const groupId = `portcullis-audit-reader-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, sessionTimeout: 10_000, rebalanceTimeout: 10_000 });
    const buffered: StoredRecord[] = [];
    let wake: (() => void) | undefined;
    let failure: Error | undefined;
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const high = remaining.get(partition);
          if (high === undefined) return;
          let record: unknown;
          const text = message.value?.toString('utf8') ?? '';
          try {
            record = JSON.parse(text) as unknown;
          } catch {
            record = { unparseable: text.slice(0, 200) };
          }
          buffered.push({ record, where: `${topic} partition ${partition} offset ${message.offset}` });
          if (BigInt(message.offset) + 1n >= high) remaining.delete(partition);
          wake?.();
        },
      }).catch((error: unknown) => {
        failure = error as Error;
        wake?.();
      });
      while (remaining.size > 0 || buffered.length > 0) {
        if (buffered.length === 0) {
          if (failure) throw failure;
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 1000);
          });
          wake = undefined;
          continue;
        }
        yield buffered.shift()!;
      }
    } finally {
      await consumer.disconnect().catch(() => undefined);
      const admin2 = this.kafka.admin();
      await admin2.connect().then(() => admin2.deleteGroups([groupId])).catch(() => undefined).finally(() => admin2.disconnect().catch(() => undefined));
    }
  }

  async retention(): Promise<StoredRetention> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const streams: readonly StoredStream[] = RETAINED_STREAMS;
      const topics = new Set(await admin.listTopics());
      const present = streams.filter((stream) => topics.has(topicFor(this.topicPrefix, stream)));
      if (present.length === 0) return {};
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: present.map((stream) => ({ type: ConfigResourceTypes.TOPIC, name: topicFor(this.topicPrefix, stream), configNames: ['retention.ms'] })),
      });
      const retention: StoredRetention = {};
      for (const stream of present) {
        const topic = topicFor(this.topicPrefix, stream);
        const value = described.resources.find((resource) => resource.resourceName === topic)?.configEntries.find((entry) => entry.configName === 'retention.ms')?.configValue;
        if (value === undefined) continue;
        const ms = Number(value);
        retention[stream] = { retention_ms: ms < 0 ? null : ms, source: `retention.ms of topic ${topic}` };
      }
      return retention;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async close(): Promise<void> {}
}

/** Leadership moves and fresh topics answer with retriable errors for a moment: try again. */
async function retryWhileRetriable<T>(call: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true || /not the leader|leader not available|coordinator/i.test((error as Error).message);
      if (!retriable || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
