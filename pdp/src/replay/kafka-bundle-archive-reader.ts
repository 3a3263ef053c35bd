import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { BUNDLE_DIGEST_HEADER, bundleTopic } from '../policy/bundle-archive/bundle-archive-layout.ts';
import { BundleArchiveError, checkedBundle, type ArchivedBundle, type BundleArchiveReader } from './bundle-archive-reader.ts';

interface StoredMessage {
  readonly digest: string | undefined;
  readonly archive: Buffer;
  readonly where: string;
}

/**
 * Reads the compacted `<prefix>.bundles.v1` topic (key: revision) once, from the beginning to its
 * end at the first call, through a throw-away consumer group deleted afterwards. Before
 * compaction a revision may appear more than once: identical bytes are one bundle, different
 * bytes are an ambiguity replay refuses.
 */
export class KafkaBundleArchiveReader implements BundleArchiveReader {
  private readonly kafka: Kafka;
  private messages: Promise<Map<string, StoredMessage[]>> | undefined;
  private readonly checked = new Map<string, ArchivedBundle | undefined>();

  constructor(private readonly brokers: readonly string[], private readonly topicPrefix: string) {
    this.kafka = new Kafka({ clientId: 'portcullis-bundle-archive-reader', brokers: [...brokers], logLevel: logLevel.NOTHING, connectionTimeout: 5000, retry: { retries: 3 } });
  }

  get description(): string {
    return `bundle archive kafka:${this.brokers.join(',')} topic ${bundleTopic(this.topicPrefix)}`;
  }

  async bundle(revision: string, digest?: string): Promise<ArchivedBundle | undefined> {
    const key = `${revision}\u0000${digest ?? ''}`;
    if (this.checked.has(key)) return this.checked.get(key);
    this.messages ??= this.readTopic();
    // Before compaction a revision may have several messages: the attested one is taken, a substitute beside it ignored.
    const stored = ((await this.messages).get(revision) ?? []).filter((message) => digest === undefined || message.digest === digest);
    const distinct = new Map(stored.map((message) => [message.archive.toString('base64'), message]));
    if (distinct.size > 1) throw new BundleArchiveError(`${this.description}: ${distinct.size} different bundles are filed as revision ${revision} (${stored.map((message) => message.where).join(', ')})`);
    const message = [...distinct.values()][0];
    let found: ArchivedBundle | undefined;
    if (message) {
      if (message.digest === undefined) throw new BundleArchiveError(`${message.where}: the message has no ${BUNDLE_DIGEST_HEADER} header`);
      found = checkedBundle(revision, message.digest, message.archive, message.where);
    }
    this.checked.set(key, found);
    return found;
  }

  async close(): Promise<void> {}

  private async readTopic(): Promise<Map<string, StoredMessage[]>> {
    const topic = bundleTopic(this.topicPrefix);
    const byRevision = new Map<string, StoredMessage[]>();
    const admin = this.kafka.admin();
    await admin.connect();
    let remaining: Map<number, bigint>;
    try {
      if (!(await admin.listTopics()).includes(topic)) return byRevision;
      const offsets = await admin.fetchTopicOffsets(topic);
      remaining = new Map(offsets.map((entry) => [entry.partition, BigInt(entry.high)] as const).filter(([, high]) => high > 0n));
    } finally {
      await admin.disconnect();
    }
    if (remaining.size === 0) return byRevision;
    const groupId = `portcullis-bundle-archive-reader-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, sessionTimeout: 10_000, rebalanceTimeout: 10_000, maxBytesPerPartition: 64 * 1024 * 1024 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const high = remaining.get(partition);
            if (high === undefined) return;
            const revision = message.key?.toString('utf8');
            // A tombstone (no value) leaves nothing to read: compaction removes the revision.
            if (revision !== undefined && message.value) {
              const digest = message.headers?.[BUNDLE_DIGEST_HEADER]?.toString();
              const list = byRevision.get(revision) ?? [];
              list.push({ digest, archive: message.value, where: `${topic} partition ${partition} offset ${message.offset}` });
              byRevision.set(revision, list);
            }
            if (BigInt(message.offset) + 1n >= high) remaining.delete(partition);
            if (remaining.size === 0) resolve();
          },
        }).catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
      const cleanup = this.kafka.admin();
      await cleanup.connect().then(() => cleanup.deleteGroups([groupId])).catch(() => undefined).finally(() => cleanup.disconnect().catch(() => undefined));
    }
    return byRevision;
  }
}
