// Shadow mode with the Kafka audit sink and a real broker: the differences of a candidate
// policy arrive on <prefix>.shadow.v1 (with the stream's headers), chained, digested and
// verified with the rest of the trail; the metrics count them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaAuditReader, auditBodyOf } from '@portcullis/pdp';
import { auditCli } from '../support/audit-cli.ts';
import { eventually } from '../support/eventually.ts';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { installedOpa, startTestPdp } from '../support/pdp-harness.ts';
import { starterPackWithData } from '../support/shadow-candidates.ts';

type Json = Record<string, any>;

async function readShadowTopic(brokers: string[], prefix: string): Promise<Json[]> {
  const reader = new KafkaAuditReader(brokers, prefix);
  const out: Json[] = [];
  try {
    for await (const item of reader.read('shadow')) out.push(item.record as Json);
  } finally {
    await reader.close();
  }
  return out;
}

describe('shadow differences on the Kafka topic', () => {
  let broker: KafkaBroker;
  let stateDir: string;
  let candidate: string;
  before(async () => {
    broker = await startKafkaBroker();
    stateDir = mkdtempSync(join(tmpdir(), 'portcullis-shadow-kafka-'));
    // The candidate no longer knows the production database: every decision on it becomes a deny.
    candidate = starterPackWithData((data) => delete data.resources['orders-db']);
  });
  after(async () => {
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(candidate, { recursive: true, force: true });
  });

  it('each differing decision once on <prefix>.shadow.v1, keyed by its decision, and the trail verifies', async () => {
    const prefix = 'shadowed';
    const pdp = await startTestPdp({
      PORTCULLIS_KAFKA_BROKERS: broker.brokers.join(','),
      PORTCULLIS_KAFKA_TOPIC_PREFIX: prefix,
      PORTCULLIS_STATE_DIR: stateDir,
      PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1',
      PORTCULLIS_SHADOW_POLICY_DIR: candidate,
      PORTCULLIS_OPA_PATH: installedOpa(),
    });
    let closed = false;
    try {
      const monitor = await pdp.token({ sub: 'monitor-shadow', roles: ['monitor'] });
      await eventually('the shadow candidate to be active', async () => {
        const view = (await (await fetch(`${pdp.url}/v1/policy`, { headers: { authorization: `Bearer ${monitor}` } })).json()) as Json;
        return view.shadow.bundle.state === 'active';
      }, { timeoutMs: 120_000, intervalMs: 200 });

      const agent = await pdp.token({ sub: 'agent-kafka-shadow', roles: ['reader'] });
      const differing: string[] = [];
      for (const resource of [{ type: 'postgres', name: 'orders-db', environment: 'production' }, { type: 'postgres', name: 'analytics-db', environment: 'staging' }]) {
        for (let index = 0; index < 5; index += 1) {
          const { status, body } = await pdp.decide({ subject_token: agent, resource, action: { type: 'sql', sql: `SELECT ${index}` } });
          assert.equal(status, 200);
          assert.equal(body.effect, 'allow', 'the live policy answers');
          if (resource.name === 'orders-db') differing.push(body.decision_id as string);
        }
      }

      const records = await eventually('the differences on the topic', async () => {
        const stored = await readShadowTopic(broker.brokers, prefix);
        return stored.length === differing.length && stored;
      }, { timeoutMs: 60_000, intervalMs: 200 });
      // Keyed by decision, so spread over partitions: the chain's seq gives their order back.
      const bySeq = [...records].sort((a, b) => a.unmapped.portcullis.chain.seq - b.unmapped.portcullis.chain.seq);
      assert.deepEqual(bySeq.map((record) => auditBodyOf(record)?.decision_id), differing, 'in the order they were decided, each once');
      for (const record of records) {
        assert.equal(record.metadata.log_name, 'portcullis.shadow.v1');
        assert.equal((auditBodyOf(record) as Record<string, any>).shadow.effect, 'deny');
        assert.equal(record.unmapped.portcullis.chain.stream, 'shadow');
      }

      // The message itself: keyed by its decision, with the stream's headers.
      const consumer = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: `shadow-check-${Date.now()}` });
      await consumer.connect();
      const seen: Array<{ key: string; stream: string }> = [];
      try {
        await consumer.subscribe({ topic: `${prefix}.shadow.v1`, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => void seen.push({ key: message.key!.toString(), stream: message.headers!['portcullis-stream']!.toString() }) });
        await eventually('the messages consumed', () => seen.length === differing.length, { timeoutMs: 60_000, intervalMs: 200 });
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual(seen.map((message) => message.key).sort(), [...differing].sort());
      assert.ok(seen.every((message) => message.stream === 'shadow'));

      const metrics = await pdp.metrics();
      assert.match(metrics, new RegExp(`portcullis_shadow_evaluations_total\\{result="different"\\} ${differing.length}\\n`));
      assert.match(metrics, /portcullis_shadow_evaluations_total\{result="same"\} 5\n/);

      await pdp.close({ keepState: true });
      closed = true;
      const verified = await auditCli(stateDir, 'verify', '--topic-prefix', prefix, '--kafka', broker.brokers.join(','));
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      // AU-11: the shadow stream is listed with its topic's retention and its oldest record, as every stream is.
      const reported = await auditCli(stateDir, 'report', '--format', 'json', '--topic-prefix', prefix, '--kafka', broker.brokers.join(','));
      assert.equal(reported.code, 0, reported.stderr);
      const retention = (JSON.parse(reported.stdout) as { retention: Json[] }).retention;
      assert.deepEqual(retention.map((entry) => entry.stream), ['decisions', 'sessions', 'approvals', 'shadow', 'digests']);
      const shadow = retention.find((entry) => entry.stream === 'shadow')!;
      assert.equal(shadow.retention, 'forever');
      assert.match(shadow.source, /retention\.ms of topic shadowed\.shadow\.v1/);
      assert.equal(shadow.records_held, differing.length);
      assert.equal(shadow.oldest_record, new Date(Math.min(...records.map((record) => record.time as number))).toISOString());
    } finally {
      if (!closed) await pdp.close({ keepState: true });
    }
  });
});
