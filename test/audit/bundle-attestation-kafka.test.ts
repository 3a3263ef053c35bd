import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaAuditReader, KafkaBundleArchiveReader, auditBodyOf } from '@portcullis/pdp';
import { auditCli } from '../support/audit-cli.ts';
import { eventually } from '../support/eventually.ts';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { installedOpa, startTestPdp } from '../support/pdp-harness.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

type Json = Record<string, any>;
const body = (record: unknown): Json => auditBodyOf(record) as Json;
const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function readAll(brokers: string[], prefix: string, stream: 'decisions' | 'digests'): Promise<unknown[]> {
  const reader = new KafkaAuditReader(brokers, prefix);
  const out: unknown[] = [];
  for await (const { record } of reader.read(stream)) out.push(record);
  await reader.close();
  return out;
}

describe('a run recorded into Kafka: the activation record vouches for the bundle read back from the compacted topic', () => {
  const prefix = 'attested';
  let broker: KafkaBroker;
  let stateDir: string;
  let work: string;
  let revision: string;
  let decisions: unknown[];

  before(async () => {
    broker = await startKafkaBroker();
    stateDir = mkdtempSync(join(tmpdir(), 'portcullis-attest-kafka-'));
    work = mkdtempSync(join(tmpdir(), 'portcullis-attest-kafka-work-'));
    const pdp = await startTestPdp({ PORTCULLIS_KAFKA_BROKERS: broker.brokers.join(','), PORTCULLIS_KAFKA_TOPIC_PREFIX: prefix, PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1' });
    const reader = await pdp.token({ sub: 'agent-reader', roles: ['reader'] });
    const orders = { subject_token: reader, resource: { type: 'postgres', name: 'orders-db' } };
    assert.equal((await pdp.decide({ ...orders, action: { type: 'sql', sql: 'SELECT id FROM orders' } })).body.effect, 'allow');
    assert.equal((await pdp.decide({ ...orders, action: { type: 'sql', sql: 'DELETE FROM orders' } })).body.effect, 'deny');
    assert.equal((await pdp.decide({ ...orders, subject_token: 'not-a-token', action: { type: 'sql', sql: 'SELECT 1' } })).body.effect, 'deny');
    revision = pdp.pdp.activation.current.revision!;
    await eventually('the bundle on its topic', async () => (await new KafkaBundleArchiveReader(broker.brokers, prefix).bundle(revision)) !== undefined, { timeoutMs: 60_000, intervalMs: 200 });
    await pdp.close({ keepState: true });
    decisions = await readAll(broker.brokers, prefix, 'decisions');
  });
  after(async () => {
    await broker.stop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('the decisions topic holds the live activation, naming the digest the bundle topic holds; every decision is re-verified and the trail verifies', async () => {
    const activations = decisions.filter((record) => body(record).event === 'bundle.activated');
    assert.equal(activations.length, 1);
    const activation = body(activations[0]);
    assert.deepEqual([activation.role, activation.revision, activation.previous_revision, activation.source.kind, activation.signature.status], ['live', revision, null, 'bundle-file', 'unsigned']);
    const archived = await new KafkaBundleArchiveReader(broker.brokers, prefix).bundle(revision);
    assert.equal(archived!.digest, activation.digest);
    assert.equal(sha256(archived!.archive), activation.digest);

    const replayed = await auditCli(stateDir, 'replay', '--kafka', broker.brokers.join(','), '--topic-prefix', prefix);
    assert.equal(replayed.code, 0, replayed.stdout);
    assert.match(replayed.stdout, /decisions re-verified: 3 of 3/);
    assert.match(replayed.stdout, /topic attested\.bundles\.v1/);
    const verified = await auditCli(stateDir, 'verify', '--kafka', broker.brokers.join(','), '--topic-prefix', prefix);
    assert.equal(verified.code, 0, verified.stdout);
  });

  it('another valid bundle of the same revision on the archive topic: every decision is unattested; the attested one beside it is taken again', async () => {
    // The substitute: a valid bundle stating the same revision, from the starter pack with one more data member.
    const source = mkdtempSync(join(work, 'source-'));
    cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(source, 'portcullis'), { recursive: true });
    const dataFile = join(source, 'portcullis/data.json');
    writeFileSync(dataFile, JSON.stringify({ ...(JSON.parse(readFileSync(dataFile, 'utf8')) as Json), substituted: true }));
    execFileSync(installedOpa(), ['build', '-t', 'wasm', '-O=1', '-e', 'portcullis/decision', '-r', revision, '--bundle', '-o', join(work, 'substitute.tar.gz'), '.'], { cwd: source });
    const substitute = readFileSync(join(work, 'substitute.tar.gz'));
    const original = (await new KafkaBundleArchiveReader(broker.brokers, prefix).bundle(revision))!;
    assert.notEqual(sha256(substitute), original.digest, 'the substitute is other bytes');

    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'swapped.decisions.v1', messages: decisions.map((record) => ({ value: JSON.stringify(record) })) });
    await producer.send({ topic: 'swapped.digests.v1', messages: (await readAll(broker.brokers, prefix, 'digests')).map((record) => ({ value: JSON.stringify(record) })) });
    await producer.send({ topic: 'swapped.bundles.v1', messages: [{ key: revision, value: substitute, headers: { 'portcullis-bundle-digest': sha256(substitute) } }] });

    const swapped = await auditCli(stateDir, 'replay', '--kafka', broker.brokers.join(','), '--topic-prefix', 'swapped');
    assert.equal(swapped.code, 1, swapped.stdout);
    assert.match(swapped.stdout, /decisions re-verified: 0 of 3/);
    const named = swapped.stdout.split('\n').filter((line) => line.includes('✗'));
    assert.equal(named.length, 3, swapped.stdout);
    for (const record of decisions.filter((candidate) => body(candidate).event === 'decision')) {
      assert.ok(named.some((line) => line.includes(body(record).decision_id) && line.includes(`unattested: the bundle archive kafka:${broker.brokers.join(',')} topic swapped.bundles.v1 holds no bundle of revision ${revision} with the bytes its activation record`)), swapped.stdout);
    }

    // Before compaction the topic may hold both: the attested bytes are found, the substitute beside them ignored.
    await producer.send({ topic: 'swapped.bundles.v1', messages: [{ key: revision, value: original.archive, headers: { 'portcullis-bundle-digest': original.digest } }] });
    await producer.disconnect();
    const both = await auditCli(stateDir, 'replay', '--kafka', broker.brokers.join(','), '--topic-prefix', 'swapped');
    assert.equal(both.code, 0, both.stdout);
    assert.match(both.stdout, /decisions re-verified: 3 of 3/);
  });
});
