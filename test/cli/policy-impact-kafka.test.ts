import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaAuditReader } from '@portcullis/pdp';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { bodyOf, changedIds, recordRun, type RecordedRun } from './support/policy-impact-run.ts';

describe('portcullis policy impact: a run recorded into Kafka', () => {
  let broker: KafkaBroker;
  let recorded: RecordedRun;
  const prefix = `impact-${process.pid}`;
  let source: string[];

  before(async () => {
    broker = await startKafkaBroker();
    recorded = await recordRun({ PORTCULLIS_KAFKA_BROKERS: broker.brokers.join(','), PORTCULLIS_KAFKA_TOPIC_PREFIX: prefix });
    // Stopped: its spool has reached the broker, and the command reads what the topic holds.
    await recorded.pdp.close({ keepState: true });
    source = ['--kafka', broker.brokers.join(','), '--topic-prefix', prefix];
  });
  after(async () => {
    await broker?.stop();
    if (recorded) rmSync(recorded.work, { recursive: true, force: true });
    if (recorded) rmSync(recorded.pdp.stateDir, { recursive: true, force: true });
  });

  it('a loosening candidate lists exactly its decisions from the topic and exits 1', async () => {
    const { run, report } = await recorded.impactJson(['--bundle', recorded.loosening(), ...source]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(report.totals.evaluated, 6);
    assert.deepEqual(changedIds(report), recorded.named('readEmail', 'writerDelete'));
    assert.match(report.source, new RegExp(`^kafka:.* topics ${prefix}\\.\\*\\.v1$`));
  });

  it('a decision stored twice on the topic (a resend) is evaluated once', async () => {
    const reader = new KafkaAuditReader(broker.brokers, prefix);
    let again: string | undefined;
    for await (const { record } of reader.read('decisions')) {
      if (bodyOf(record as Record<string, unknown>).decision_id === recorded.ids.stagingDelete) again = JSON.stringify(record);
    }
    await reader.close();
    assert.ok(again, 'the staging decision is on the topic');
    const producer = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: `${prefix}.decisions.v1`, messages: [{ value: again }] });
    await producer.disconnect();

    const { run, report } = await recorded.impactJson(['--bundle', recorded.tightening(), ...source]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(report.totals.evaluated, 6);
    assert.deepEqual(changedIds(report), recorded.named('stagingDelete'));
  });
});
