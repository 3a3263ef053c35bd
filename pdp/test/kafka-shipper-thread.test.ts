import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { startKafkaBroker, type KafkaBroker } from '../../test/support/kafka-broker.ts';
import { KafkaShipperThread } from '../src/audit/trail/kafka/kafka-shipper-thread.ts';
import { topicFor } from '../src/audit/trail/kafka/audit-topics.ts';
import type { AuditRetention } from '../src/config/audit-retention-config.ts';

const KEPT_FOR_EVER: AuditRetention = { decisions: null, sessions: null, approvals: null, shadow: null, digests: null };

describe('the Kafka shipper thread', () => {
  let broker: KafkaBroker;
  before(async () => {
    broker = await startKafkaBroker({ keepData: true });
  });
  after(async () => {
    await broker.stop();
    rmSync(broker.dataDir, { recursive: true, force: true });
  });

  async function readTopic(topic: string, count: number): Promise<Array<{ key: string; value: string; headers: Record<string, string> }>> {
    const kafka = new Kafka({ clientId: 'shipper-test-reader', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `shipper-test-${Date.now()}` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen: Array<{ key: string; value: string; headers: Record<string, string> }> = [];
      await new Promise<void>((resolve, reject) => {
        consumer.run({
          eachMessage: async ({ message }) => {
            seen.push({
              key: message.key!.toString(),
              value: message.value!.toString(),
              headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])),
            });
            if (seen.length >= count) resolve();
          },
        }).catch(reject);
      });
      return seen;
    } finally {
      await consumer.disconnect();
    }
  }

  it('creates the topics, produces the exact bytes handed over, and after its thread dies on a bad request a new one takes the next', async () => {
    const prefix = 'shipper-thread';
    const logs: string[] = [];
    const shipper = new KafkaShipperThread({
      session: { brokers: broker.brokers, clientId: 'shipper-test', topicPrefix: prefix, partitions: 1, replicationFactor: 1, compression: 'gzip', retention: KEPT_FOR_EVER },
      niceness: 5,
    }, (message) => logs.push(message));
    const topic = topicFor(prefix, 'decisions');
    try {
      await shipper.prepare();
      // One chunk, two records as views into it: what the spool hands over.
      const chunk = Buffer.from('{"a":1}{"b":"é"}');
      await shipper.send([{ topic, messages: [
        { key: 'session-1', value: chunk.subarray(0, 7), headers: { 'portcullis-stream': 'decisions' } },
        { key: 'session-1', value: chunk.subarray(7), headers: { 'portcullis-stream': 'decisions' } },
      ] }]);

      // A request the thread cannot read kills it: that request fails, and nothing else is lost.
      await assert.rejects(shipper.send([{ topic, messages: [{ key: 'k', value: 'not bytes' as unknown as Buffer, headers: {} }] }]), /shipper thread|buffer|argument/i);
      assert.ok(logs.some((line) => /a new one starts with the next batch/.test(line)), logs.join('\n'));

      await shipper.send([{ topic, messages: [{ key: 'session-2', value: Buffer.from('{"c":3}'), headers: { 'portcullis-stream': 'decisions' } }] }]);
      const records = await readTopic(topic, 3);
      assert.deepEqual(records, [
        { key: 'session-1', value: '{"a":1}', headers: { 'portcullis-stream': 'decisions' } },
        { key: 'session-1', value: '{"b":"é"}', headers: { 'portcullis-stream': 'decisions' } },
        { key: 'session-2', value: '{"c":3}', headers: { 'portcullis-stream': 'decisions' } },
      ]);
    } finally {
      await shipper.close();
    }
  });

  it('passes kafkajs\'s error type back across the thread (the sink splits a batch the broker refuses as too large)', async () => {
    const shipper = new KafkaShipperThread({
      session: { brokers: broker.brokers, clientId: 'shipper-test-errors', topicPrefix: 'shipper-errors', partitions: 1, replicationFactor: 1, compression: 'none', retention: KEPT_FOR_EVER },
      niceness: 0,
    }, () => undefined);
    try {
      await shipper.prepare();
      const tooLarge = Buffer.alloc(2 * 1024 * 1024, 0x61);
      const error = await shipper.send([{ topic: topicFor('shipper-errors', 'decisions'), messages: [{ key: 'k', value: tooLarge, headers: {} }] }]).then(() => undefined, (caught: unknown) => caught);
      assert.ok(error instanceof Error, 'the broker refused a 2 MiB record');
      assert.match(`${error.message} ${(error as { type?: string }).type ?? ''}`, /too large|MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/i);
    } finally {
      await shipper.close();
    }
  });
});
