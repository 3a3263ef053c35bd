import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import type { EvidenceReport } from '@portcullis/pdp';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { auditCli } from '../support/audit-cli.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { eventually } from '../support/eventually.ts';

const { ConfigResourceTypes, Kafka, logLevel } = kafkajs;
type Kafka = InstanceType<typeof Kafka>;
const PREFIX = 'retained';
const RETENTION_MS = 30_000;

describe('retention (AU-11) on Kafka: the broker deletes the oldest segments, the trail still verifies from its checkpoint', () => {
  let broker: KafkaBroker;
  let stateDir: string;
  let kafka: Kafka;

  before(async () => {
    // The broker's own retention, made quick: it looks for expired segments every second.
    broker = await startKafkaBroker({ serverProperties: { 'log.retention.check.interval.ms': '1000', 'log.segment.delete.delay.ms': '1000' } });
    stateDir = mkdtempSync(join(tmpdir(), 'portcullis-retention-'));
    kafka = new Kafka({ clientId: 'retention-test', brokers: broker.brokers, logLevel: logLevel.NOTHING });
  });
  after(async () => {
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    PORTCULLIS_KAFKA_BROKERS: broker.brokers.join(','),
    PORTCULLIS_KAFKA_TOPIC_PREFIX: PREFIX,
    PORTCULLIS_KAFKA_PARTITIONS: '1',
    PORTCULLIS_STATE_DIR: stateDir,
    PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1',
    ...extra,
  });

  async function decide(pdp: TestPdp, token: string, index: number): Promise<void> {
    const { status } = await pdp.decide({
      subject_token: token,
      resource: { type: 'postgres', name: 'orders-db', environment: 'staging' },
      action: { type: 'sql', sql: `SELECT id FROM orders WHERE id = ${index}` },
    });
    assert.equal(status, 200);
  }

  async function topicConfig(topic: string): Promise<Map<string, string>> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'segment.ms'] }] });
      return new Map(described.resources[0]!.configEntries.map((entry) => [entry.configName, entry.configValue]));
    } finally {
      await admin.disconnect();
    }
  }

  async function lowOffset(topic: string): Promise<bigint> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return BigInt((await admin.fetchTopicOffsets(topic))[0]!.low);
    } finally {
      await admin.disconnect();
    }
  }

  it('topics are created kept for ever, set to the configured retention on restart, and a trail whose head was deleted verifies from its checkpoint, as the report says', async () => {
    // First run: no retention configured: every topic is kept for ever.
    const first = await startTestPdp(env());
    const firstToken = await first.token({ sub: 'agent-retention', roles: ['reader'] });
    await decide(first, firstToken, 0);
    await first.pdp.flushAudit();
    await first.close({ keepState: true });
    assert.equal((await topicConfig(`${PREFIX}.decisions.v1`)).get('retention.ms'), '-1');

    // Second run: decisions kept 30 s; the existing topic is altered, the others stay.
    const pdp = await startTestPdp(env({ PORTCULLIS_AUDIT_RETENTION_DECISIONS: '30s' }));
    const token = await pdp.token({ sub: 'agent-retention', roles: ['reader'] });
    await decide(pdp, token, 1);
    await pdp.pdp.flushAudit();
    // Topics are aligned by the shipper as it starts, beside the answers (a broker may be away).
    await eventually('the restarted PDP sets the decisions topic to the configured retention', async () => (await topicConfig(`${PREFIX}.decisions.v1`)).get('retention.ms') === String(RETENTION_MS), { timeoutMs: 30_000, intervalMs: 100 });
    const decisionsConfig = await topicConfig(`${PREFIX}.decisions.v1`);
    assert.equal(decisionsConfig.get('retention.ms'), String(RETENTION_MS));
    assert.equal(decisionsConfig.get('segment.ms'), String(RETENTION_MS / 10));
    assert.equal((await topicConfig(`${PREFIX}.digests.v1`)).get('retention.ms'), '-1');

    // Decisions keep coming (a segment rolls on the first append after segment.ms) until the
    // broker has deleted, by itself, the first run's record (offset 0) and this run's first ones.
    let index = 2;
    await eventually('the broker deletes the oldest decision segments', async () => {
      await decide(pdp, token, index++);
      return (await lowOffset(`${PREFIX}.decisions.v1`)) > 2n;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    await pdp.close({ keepState: true });

    const verify = await auditCli(stateDir, 'verify', '--json', '--kafka', broker.brokers.join(','), '--topic-prefix', PREFIX);
    const verification = JSON.parse(verify.stdout) as {
      ok: boolean; problems: unknown[]; started_from: Array<{ stream: string; first_seq: number; anchor_seq: number }>; aged_out: Array<{ stream: string; through_seq: number }>;
    };
    assert.equal(verify.code, 0, JSON.stringify(verification.problems, null, 1));
    const started = verification.started_from.filter((start) => start.stream === 'decisions');
    assert.ok(started.length >= 1, 'a decisions chain was verified from a checkpoint');
    assert.ok(started.every((start) => start.first_seq > 0 && start.anchor_seq >= start.first_seq - 1));
    // The first run's bundle activation and one decision are gone whole: excused, as its checkpoint is older than the retention.
    assert.deepEqual(verification.aged_out.map((aged) => [aged.stream, aged.through_seq]), [['decisions', 1]]);

    const result = await auditCli(stateDir, 'report', '--format', 'json', '--kafka', broker.brokers.join(','), '--topic-prefix', PREFIX);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as EvidenceReport;
    assert.equal(report.verification.ok, true);
    assert.ok(report.verification.started_from.some((start) => start.stream === 'decisions'));
    const decisions = report.retention.find((entry) => entry.stream === 'decisions')!;
    assert.equal(decisions.retention, '30s');
    assert.match(decisions.source ?? '', /retention\.ms of topic retained\.decisions\.v1/);
    assert.ok(decisions.oldest_record !== null);
    assert.equal(report.retention.find((entry) => entry.stream === 'digests')?.retention, 'forever');
    const au11 = report.controls.find((control) => control.id === 'AU-11')!;
    assert.equal(au11.verification.ok, true);
    assert.match(au11.verification.summary, /Verification started from a signed checkpoint/);
    const markdown = await auditCli(stateDir, 'report', '--format', 'md', '--kafka', broker.brokers.join(','), '--topic-prefix', PREFIX);
    assert.match(markdown.stdout, /Verification started from a checkpoint \(the oldest records aged out\)/);
  });
});
