import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaAuditReader, recordHash } from '@portcullis/pdp';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { eventually } from '../support/eventually.ts';
import { startTestPdp } from '../support/pdp-harness.ts';

const run = promisify(execFile);
// The decisions topic opens with the bundle's activation; the event's name is the record's event code.
const eventCode = (record: unknown): string | undefined => (record as { metadata?: { event_code?: string } }).metadata?.event_code;

describe('the audit topics are gzip-compressed, and a plain Kafka consumer (kcat) reads every record byte for byte', () => {
  let broker: KafkaBroker;
  let stateDir: string;
  before(async () => {
    broker = await startKafkaBroker({ keepData: true });
    stateDir = mkdtempSync(join(tmpdir(), 'portcullis-kafka-gzip-'));
  });
  after(async () => {
    await broker.stop();
    rmSync(broker.dataDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('stores compressed batches on a gzip topic; kcat gives back records whose hashes recompute', async () => {
    const prefix = 'gzip-audit';
    const topic = `${prefix}.decisions.v1`;
    // The default codec: nothing configured.
    const pdp = await startTestPdp({ PORTCULLIS_KAFKA_BROKERS: broker.brokers.join(','), PORTCULLIS_KAFKA_TOPIC_PREFIX: prefix, PORTCULLIS_STATE_DIR: stateDir });
    const decided: string[] = [];
    try {
      const token = await pdp.token({ sub: 'agent-gzip', roles: ['reader'] });
      for (let index = 0; index < 40; index += 1) {
        const { status, body } = await pdp.decide({
          subject_token: token,
          resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
          action: { type: 'sql', sql: `SELECT id, total FROM orders WHERE id = ${index}` },
          session: { id: `gzip-session-${index % 4}`, client_addr: '10.9.8.7:50000' },
        });
        assert.equal(status, 200);
        decided.push(body.decision_id as string);
      }
      await eventually('every decision on the topic', async () => {
        let count = 0;
        for await (const { record } of new KafkaAuditReader(broker.brokers, prefix).read('decisions')) if (eventCode(record) === 'decision') count += 1;
        return count === decided.length;
      }, { timeoutMs: 60_000, intervalMs: 200 });
    } finally {
      await pdp.close();
    }

    const admin = new Kafka({ clientId: 'gzip-test', brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['compression.type'] }] });
      assert.equal(described.resources[0]?.configEntries[0]?.configValue, 'gzip', 'the topic stores gzip batches');
    } finally {
      await admin.disconnect();
    }

    const { stdout } = await run('kcat', ['-C', '-b', broker.brokers[0]!, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\n'], { maxBuffer: 64 * 1024 * 1024 });
    const lines = stdout.split('\n').filter(Boolean);
    const records = lines.map((line) => JSON.parse(line) as { metadata: { uid: string; event_code: string }; unmapped: { portcullis: { chain: { hash: string } } } });
    assert.deepEqual(records.filter((record) => eventCode(record) === 'decision').map((record) => record.metadata.uid).sort(), [...decided].sort(), 'kcat reads each decision once');
    assert.deepEqual(records.filter((record) => eventCode(record) !== 'decision').map(eventCode), ['bundle.activated'], 'and the activation that opens the chain');
    for (const record of records) assert.equal(recordHash(record), record.unmapped.portcullis.chain.hash, 'kcat gives back the exact record');

    // The segments hold less than the records' own JSON: the batches are stored compressed.
    const folders = readdirSync(join(broker.dataDir, 'data')).filter((name) => name.startsWith(`${topic}-`));
    const segmentBytes = folders.flatMap((folder) => readdirSync(join(broker.dataDir, 'data', folder)).filter((name) => name.endsWith('.log')).map((name) => statSync(join(broker.dataDir, 'data', folder, name)).size))
      .reduce((sum, size) => sum + size, 0);
    const jsonBytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
    assert.ok(segmentBytes > 0 && segmentBytes < jsonBytes, `segments ${segmentBytes} B, records ${jsonBytes} B`);
  });
});
