// The Kafka test broker and kafkajs 2.2.4 against it: topic creation, an idempotent producer with
// acks=all, a consumer group, data that survives restarts (clean and SIGKILL), and kcat.
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = kafkajs;
const run = promisify(execFile);
const COMPONENTS = fileURLToPath(new URL('../../scripts/components.sh', import.meta.url));

const TOPIC = 'portcullis.audit.test';
const COUNT = 60;
const expected = Array.from({ length: COUNT }, (_, i) => `{"seq":${i}}`);

let broker: KafkaBroker;
let client: InstanceType<typeof Kafka>;
let startMs = 0;

before(async () => {
  await run('bash', [COMPONENTS, 'install', 'kcat']);
  const started = Date.now();
  broker = await startKafkaBroker();
  startMs = Date.now() - started;
  // kafkajs logs retried, transient errors (a coordinator still loading after a start) at ERROR
  // level; real failures reach the assertions.
  client = new Kafka({ clientId: 'kafka-broker-test', brokers: broker.brokers, logLevel: logLevel.NOTHING });
});

after(async () => {
  await broker?.stop();
});

/** Reads the topic from the beginning with a new consumer group until `count` messages arrived. */
async function consumeAll(groupId: string, count: number): Promise<string[]> {
  const consumer = client.consumer({ groupId });
  const values: string[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${groupId}: ${values.length} of ${count} messages after 20 s`)), 20_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            values.push(message.value?.toString() ?? '');
            if (values.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

const sorted = (values: string[]): string[] => [...values].sort((a, b) => a.localeCompare(b));

test('a topic is created, written by an idempotent producer with acks=all, and read by a consumer group', async (t) => {
  t.diagnostic(`broker ${broker.brokers[0]} ready in ${startMs} ms (${broker.dataDir})`);
  const admin = client.admin();
  await admin.connect();
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }], waitForLeaders: true }), true);
    const metadata = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    assert.equal(metadata.topics[0]?.partitions.length, 3);
  } finally {
    await admin.disconnect();
  }

  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const results = await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: expected.map((value, i) => ({ key: `agent-${i % 5}`, value, headers: { source: 'test' } })),
    });
    assert.ok(results.every((r) => r.errorCode === 0));
  } finally {
    await producer.disconnect();
  }

  assert.deepEqual(sorted(await consumeAll('group-before-restart', COUNT)), sorted(expected));
});

test('after a clean restart on the same port the messages and committed offsets are still there', async (t) => {
  const started = Date.now();
  await broker.restart();
  t.diagnostic(`restart (SIGTERM, start, ready) took ${Date.now() - started} ms`);

  assert.deepEqual(sorted(await consumeAll('group-after-restart', COUNT)), sorted(expected));
  const admin = client.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: 'group-before-restart', topics: [TOPIC] });
    const committed = offsets?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    assert.equal(committed, COUNT);
  } finally {
    await admin.disconnect();
  }
});

test('after SIGKILL and restart the log is recovered and takes new writes', async (t) => {
  await broker.kill();
  assert.equal(broker.running, false);
  const started = Date.now();
  await broker.restart();
  t.diagnostic(`restart after SIGKILL took ${Date.now() - started} ms`);

  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic: TOPIC, acks: -1, messages: [{ key: 'agent-0', value: `{"seq":${COUNT}}` }] });
  } finally {
    await producer.disconnect();
  }
  assert.deepEqual(sorted(await consumeAll('group-after-kill', COUNT + 1)), sorted([...expected, `{"seq":${COUNT}}`]));
});

test('kcat reads the same messages', async () => {
  const { stdout } = await run('kcat', ['-b', broker.brokers[0]!, '-C', '-t', TOPIC, '-e', '-o', 'beginning', '-q', '-f', '%s\\n'], {
    timeout: 20_000,
  });
  const values = stdout.split('\n').filter((line) => line !== '');
  assert.deepEqual(sorted(values), sorted([...expected, `{"seq":${COUNT}}`]));
});
