import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaAuditReader, KafkaBundleArchiveReader, auditBodyOf } from '@portcullis/pdp';
import { deleteOrder, readOrders, requestApproval, vote } from '../approvals/approval-fixtures.ts';
import { auditCli } from '../support/audit-cli.ts';
import { eventually } from '../support/eventually.ts';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { startTestPdp } from '../support/pdp-harness.ts';

type Body = Record<string, any>;
const bodyOf = (record: unknown): Body => auditBodyOf(record) as Body;

async function readAll(brokers: string[], prefix: string, stream: 'decisions' | 'digests'): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const { record } of new KafkaAuditReader(brokers, prefix).read(stream)) out.push(record);
  return out;
}

describe('audit replay of a run recorded into Kafka', () => {
  const prefix = 'replayed';
  let broker: KafkaBroker;
  let stateDir: string;
  let decisions: unknown[];
  let revision: string;

  before(async () => {
    broker = await startKafkaBroker();
    stateDir = mkdtempSync(join(tmpdir(), 'portcullis-replay-kafka-'));
    const pdp = await startTestPdp({ PORTCULLIS_KAFKA_BROKERS: broker.brokers.join(','), PORTCULLIS_KAFKA_TOPIC_PREFIX: prefix, PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1' });
    const reader = await pdp.token({ sub: 'agent-reader', roles: ['reader'] });
    const writer = await pdp.token({ sub: 'agent-writer', roles: ['reader', 'writer'] });
    const approver = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const effects = [
      (await pdp.decide(readOrders(reader))).body.effect,
      (await pdp.decide({ ...readOrders(reader), action: { type: 'sql', sql: 'SELECT * FROM users' } })).body.effect,
      (await pdp.decide(deleteOrder(reader))).body.effect,
      (await pdp.decide(readOrders('not-a-token'))).body.effect,
    ];
    assert.deepEqual(effects, ['allow', 'allow', 'deny', 'deny']);
    const { id } = await requestApproval(pdp, deleteOrder(writer, 9));
    assert.equal((await vote(pdp.url, approver, id, 'approve')).status, 200);
    assert.equal((await pdp.decide({ ...deleteOrder(writer, 9), approval_id: id })).body.effect, 'allow');
    revision = pdp.pdp.activation.current.revision!;
    // The decisions topic holds the bundle's activation record, then the six decisions.
    await eventually('the activation and the six decisions in Kafka', async () => (await readAll(broker.brokers, prefix, 'decisions')).length === 7, { timeoutMs: 60_000, intervalMs: 200 });
    await eventually('the bundle on its topic', async () => (await new KafkaBundleArchiveReader(broker.brokers, prefix).bundle(revision)) !== undefined, { timeoutMs: 60_000, intervalMs: 200 }).catch((error: Error) => {
      throw new Error(`${error.message}; PDP log: ${pdp.logs.filter((line) => line.includes('bundle')).join(' | ')}`);
    });
    await pdp.close({ keepState: true });
    decisions = await readAll(broker.brokers, prefix, 'decisions');
  });
  after(async () => {
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('every decision is re-verified with the bundle read back from the compacted topic', async () => {
    const replayed = await auditCli(stateDir, 'replay', '--kafka', broker.brokers.join(','), '--topic-prefix', prefix);
    assert.equal(replayed.code, 0, replayed.stdout);
    assert.match(replayed.stdout, /decisions re-verified: 6 of 6/);
    assert.match(replayed.stdout, /topic replayed\.bundles\.v1/);
    const admin = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: `${prefix}.bundles.v1` }] });
    await admin.disconnect();
    const entries = new Map(described.resources[0]!.configEntries.map((entry) => [entry.configName, entry.configValue]));
    assert.equal(entries.get('cleanup.policy'), 'compact');
    assert.ok(Number(entries.get('max.message.bytes')) >= 64 * 1024 * 1024);
    // The state folder keeps the same bundle, addressed by its content.
    assert.deepEqual(readdirSync(join(stateDir, 'bundles')).filter((name) => name.startsWith(`${encodeURIComponent(revision)}@`)).length, 1);
  });

  it('one record altered in place is named by replay and by verify', async () => {
    const victim = decisions.find((record) => bodyOf(record).effect === 'deny' && bodyOf(record).principal.authenticated)!;
    const victimId = bodyOf(victim).decision_id as string;
    const values = decisions.map((record) => {
      const text = JSON.stringify(record);
      // The forgery turns a block into an allow wherever the record states the effect.
      return record === victim ? text.replace('"effect":"deny"', '"effect":"allow"').replace('"disposition_id":2', '"disposition_id":1') : text;
    });
    assert.notDeepEqual(values.map((value) => JSON.parse(value)), decisions, 'the copy differs in one record');
    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'altered.decisions.v1', messages: values.map((value) => ({ value })) });
    const digests = await readAll(broker.brokers, prefix, 'digests');
    await producer.send({ topic: 'altered.digests.v1', messages: digests.map((record) => ({ value: JSON.stringify(record) })) });
    await producer.disconnect();

    const replayed = await auditCli(stateDir, 'replay', '--kafka', broker.brokers.join(','), '--topic-prefix', 'altered', '--bundles', join(stateDir, 'bundles'));
    assert.equal(replayed.code, 1, replayed.stdout);
    assert.match(replayed.stdout, /decisions re-verified: 5 of 6/);
    const named = replayed.stdout.split('\n').filter((line) => line.includes('✗'));
    assert.equal(named.length, 1, replayed.stdout);
    assert.ok(named[0]!.includes(victimId) && named[0]!.includes('effect recorded "allow", replayed "deny"'), named[0]);

    const verified = await auditCli(stateDir, 'verify', '--kafka', broker.brokers.join(','), '--topic-prefix', 'altered');
    assert.equal(verified.code, 1);
    assert.match(verified.stdout, /hash-mismatch/);

    const report = await auditCli(stateDir, 'report', '--kafka', broker.brokers.join(','), '--topic-prefix', 'altered', '--bundles', join(stateDir, 'bundles'), '--format', 'json');
    const controls = (JSON.parse(report.stdout) as { controls: { id: string; lines: { text: string; ok: boolean }[] }[] }).controls;
    assert.deepEqual(controls.find((control) => control.id === 'AC-3')!.lines.map((line) => [line.text.split(' (')[0], line.ok]), [['decisions re-verified: 5 of 6', false]]);
  });

  it('the evidence report of the untouched run says every decision is re-verified', async () => {
    const report = await auditCli(stateDir, 'report', '--kafka', broker.brokers.join(','), '--topic-prefix', prefix, '--format', 'md');
    assert.equal(report.code, 0);
    assert.match(report.stdout, /decisions re-verified: 6 of 6/);
  });
});
