import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaAuditReader, auditBodyOf } from '@portcullis/pdp';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { auditCli } from '../support/audit-cli.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { eventually } from '../support/eventually.ts';

const run = promisify(execFile);

interface Portcullis { decision_id: string; session: { id: string } | null; chain: { producer_id: string; seq: number } }
const portcullisOf = (record: unknown): Portcullis => auditBodyOf(record) as unknown as Portcullis;

async function readAll(brokers: string[], prefix: string, stream: 'decisions' | 'digests' = 'decisions'): Promise<Array<{ record: unknown; where: string }>> {
  const reader = new KafkaAuditReader(brokers, prefix);
  const out: Array<{ record: unknown; where: string }> = [];
  for await (const item of reader.read(stream)) out.push(item);
  return out;
}

// Each PDP's chain starts with its bundle's activation record; the counts below are of decisions.
const isDecision = ({ record }: { record: unknown }): boolean => auditBodyOf(record)?.event !== 'bundle.activated';
async function readDecisions(brokers: string[], prefix: string): Promise<Array<{ record: unknown; where: string }>> {
  return (await readAll(brokers, prefix)).filter(isDecision);
}

// A broker still electing leaders answers with retriable errors: eventually() asks again.
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  await eventually(what, condition, { timeoutMs, intervalMs: 100 });
}

describe('the Kafka audit stream: nothing lost across broker and PDP restarts, tampering named', () => {
  let broker: KafkaBroker;
  let stateDir: string;
  before(async () => {
    broker = await startKafkaBroker({ keepData: true });
    stateDir = mkdtempSync(join(tmpdir(), 'portcullis-kafka-audit-'));
  });
  after(async () => {
    await broker.stop();
    rmSync(broker.dataDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  const kafkaEnv = (prefix: string, extra: Record<string, string> = {}) => ({
    PORTCULLIS_KAFKA_BROKERS: broker.brokers.join(','),
    PORTCULLIS_KAFKA_TOPIC_PREFIX: prefix,
    PORTCULLIS_STATE_DIR: stateDir,
    PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1',
    ...extra,
  });

  /** Decisions in several sessions, in order within each; returns the ids per session in order. */
  async function stream(pdp: TestPdp, sessions: string[], rounds: number, sent: Map<string, string[]>): Promise<void> {
    const token = await pdp.token({ sub: 'agent-stream', roles: ['reader'] });
    for (let round = 0; round < rounds; round += 1) {
      await Promise.all(sessions.map(async (session) => {
        const { status, body } = await pdp.decide({
          subject_token: token,
          resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
          action: { type: 'sql', sql: `SELECT id FROM orders WHERE id = ${round}` },
          session: { id: session },
        });
        assert.equal(status, 200);
        assert.equal(body.effect, 'allow', 'an outage of the broker does not change decisions');
        const ids = sent.get(session) ?? [];
        ids.push(body.decision_id as string);
        sent.set(session, ids);
      }));
    }
  }

  function assertExactlyOnceInOrder(records: Array<{ record: unknown }>, sent: Map<string, string[]>): void {
    const seen = new Map<string, number>();
    const bySession = new Map<string, string[]>();
    for (const { record } of records) {
      const fields = portcullisOf(record);
      seen.set(fields.decision_id, (seen.get(fields.decision_id) ?? 0) + 1);
      const session = fields.session?.id ?? '';
      bySession.set(session, [...(bySession.get(session) ?? []), fields.decision_id]);
    }
    for (const [session, ids] of sent) {
      for (const id of ids) assert.equal(seen.get(id), 1, `decision ${id} of ${session} must be in Kafka exactly once`);
      // A session is one message key: one partition, so its records come back in decision order.
      assert.deepEqual(bySession.get(session), ids, `order of session ${session}`);
    }
  }

  it('a broker stopped and restarted during a steady stream of decisions loses and duplicates nothing', async () => {
    const prefix = 'outage';
    const pdp = await startTestPdp(kafkaEnv(prefix));
    const sent = new Map<string, string[]>();
    const sessions = ['s-a', 's-b', 's-c', 's-d'];
    await stream(pdp, sessions, 10, sent);
    await until(async () => (await readDecisions(broker.brokers, prefix)).length === 40, 'the first 40 records in Kafka');

    await broker.stop();
    await stream(pdp, sessions, 15, sent); // decided while the broker is away: spooled
    const health = (await pdp.health()) as { audit: { status: string; details: { spool_bytes: number } } };
    assert.ok(health.audit.details.spool_bytes > 0, 'records wait in the spool');
    await broker.restart();
    await stream(pdp, sessions, 5, sent);
    await until(async () => (await readDecisions(broker.brokers, prefix)).length >= 120, 'all 120 records in Kafka', 90_000);
    await pdp.close({ keepState: true });

    assertExactlyOnceInOrder(await readDecisions(broker.brokers, prefix), sent);
    const verified = await auditCli(stateDir, 'verify', '--topic-prefix', prefix, '--kafka', broker.brokers.join(','));
    assert.equal(verified.code, 0, verified.stdout);
  });

  it('a PDP restart while the broker is away loses nothing: the next PDP ships the spool', async () => {
    const prefix = 'pdp-restart';
    const sent = new Map<string, string[]>();
    const first = await startTestPdp(kafkaEnv(prefix));
    await stream(first, ['r-a', 'r-b'], 5, sent);
    await until(async () => (await readDecisions(broker.brokers, prefix)).length === 10, 'the first records');
    await broker.stop();
    await stream(first, ['r-a', 'r-b'], 10, sent);
    await first.close({ keepState: true }); // the broker is down: these stay in the spool

    const second = await startTestPdp(kafkaEnv(prefix));
    await stream(second, ['r-a', 'r-b'], 5, sent);
    await broker.restart();
    await until(async () => (await readDecisions(broker.brokers, prefix)).length >= 40, 'all 40 records after both restarts', 90_000);
    await second.close({ keepState: true });

    assertExactlyOnceInOrder(await readDecisions(broker.brokers, prefix), sent);
    const verified = await auditCli(stateDir, 'verify', '--topic-prefix', prefix, '--kafka', broker.brokers.join(','));
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /2 producer/);
  });

  it('a batch the broker refuses as too large is split, and every record still arrives in order', async () => {
    const prefix = 'small-messages';
    const admin = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: ['decisions', 'sessions', 'approvals', 'digests'].map((stream) => ({
        topic: `${prefix}.${stream}.v1`, numPartitions: 1, replicationFactor: 1,
        configEntries: [{ name: 'max.message.bytes', value: '16384' }],
      })),
    });
    await admin.disconnect();
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-small-'));
    const pdp = await startTestPdp({ ...kafkaEnv(prefix), PORTCULLIS_STATE_DIR: dir });
    const sent = new Map<string, string[]>();
    await broker.stop();
    await stream(pdp, ['m-a', 'm-b'], 20, sent); // a backlog: the first batch after the restart is far over 16 KiB
    await broker.restart();
    await until(async () => (await readDecisions(broker.brokers, prefix)).length >= 40, 'all 40 records in small batches', 90_000);
    await pdp.close();
    rmSync(dir, { recursive: true, force: true });
    assertExactlyOnceInOrder(await readDecisions(broker.brokers, prefix), sent);
  });

  it('verify names an altered byte and a removed event in copies of the topics, and passes on the originals', async () => {
    const prefix = 'pdp-restart';
    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    // One read of each topic: partitions interleave differently from one read to the next.
    const decisions = await readAll(broker.brokers, prefix);
    const digests = (await readAll(broker.brokers, prefix, 'digests')).map(({ record }) => JSON.stringify(record));
    const values = decisions.map(({ record }) => JSON.stringify(record));
    const copy = async (copyPrefix: string, changed: string[]): Promise<void> => {
      await producer.send({ topic: `${copyPrefix}.decisions.v1`, messages: changed.map((value) => ({ value })) });
      await producer.send({ topic: `${copyPrefix}.digests.v1`, messages: digests.map((value) => ({ value })) });
    };
    const victim = portcullisOf(decisions[7]!.record);
    await copy('altered', values.map((value, index) => (index === 7 ? value.replace('"orders-db"', '"orders-dc"') : value)));
    const gone = portcullisOf(decisions[12]!.record);
    await copy('removed', values.filter((_, index) => index !== 12));
    // The first run removed whole: its records and everything it signed; the second run names it.
    const starts = digests.map((value) => JSON.parse(value) as { event?: string; producer_id: string; producers?: { producer_id: string }[] }).filter((record) => record.event === 'start');
    const named = starts.flatMap((start) => start.producers ?? []).map((seen) => seen.producer_id);
    const firstRun = starts.find((start) => named.includes(start.producer_id))!.producer_id;
    await producer.send({ topic: 'run-removed.decisions.v1', messages: values.filter((value) => !value.includes(firstRun)).map((value) => ({ value })) });
    await producer.send({ topic: 'run-removed.digests.v1', messages: digests.filter((value) => (JSON.parse(value) as { producer_id: string }).producer_id !== firstRun).map((value) => ({ value })) });
    await producer.disconnect();

    const altered = await auditCli(stateDir, 'verify', '--topic-prefix', 'altered', '--kafka', broker.brokers.join(','));
    assert.equal(altered.code, 1);
    assert.match(altered.stdout, /hash-mismatch/);
    assert.ok(altered.stdout.includes(victim.decision_id) || altered.stdout.includes(`seq ${victim.chain.seq}`), altered.stdout);

    const removed = await auditCli(stateDir, 'verify', '--topic-prefix', 'removed', '--kafka', broker.brokers.join(','));
    assert.equal(removed.code, 1);
    assert.match(removed.stdout, /gap/);
    assert.ok(removed.stdout.includes(String(gone.chain.seq)), removed.stdout);

    const runRemoved = await auditCli(stateDir, 'verify', '--topic-prefix', 'run-removed', '--kafka', broker.brokers.join(','));
    assert.equal(runRemoved.code, 1);
    assert.match(runRemoved.stdout, new RegExp(`producer-missing: producer ${firstRun} is missing from the trail`));

    const original = await auditCli(stateDir, 'verify', '--topic-prefix', prefix, '--kafka', broker.brokers.join(','));
    assert.equal(original.code, 0, original.stdout);
    assert.match(original.stdout, /producer .*: stopped, .*\n.*producer .*: stopped/);
  });

  it("kcat (Debian's) reads one JSON object per message with the schema headers", async () => {
    const { stdout } = await run('kcat', ['-b', broker.brokers[0]!, '-C', '-t', 'outage.decisions.v1', '-e', '-o', 'beginning', '-f', '%h\\t%s\\n', '-q']);
    const lines = stdout.trim().split('\n');
    const classes: number[] = [];
    for (const line of lines) {
      const [headers, value] = line.split('\t');
      assert.match(headers!, /portcullis-schema=audit\.v1/);
      const record = JSON.parse(value!) as { class_uid: number; time: number; metadata: { uid: string } };
      classes.push(record.class_uid);
      assert.equal(typeof record.time, 'number');
    }
    // The bundle's activation (Entity Management), then decisions (API Activity).
    assert.equal(classes.filter((classUid) => classUid === 3004).length, 1, classes.join(','));
    assert.ok(classes.filter((classUid) => classUid === 6005).length >= 120, classes.join(','));
    assert.equal(classes.length, classes.filter((classUid) => classUid === 3004 || classUid === 6005).length);
  });

  it('a full spool with the broker away fails closed by default, and counts drops when fail-open', async () => {
    await broker.stop();
    try {
      for (const [mode, expected] of [['fail-closed', 'deny'], ['fail-open', 'allow']] as const) {
        const dir = mkdtempSync(join(tmpdir(), `portcullis-spool-${mode}-`));
        const pdp = await startTestPdp({ ...kafkaEnv(`full-${mode}`), PORTCULLIS_STATE_DIR: dir, PORTCULLIS_AUDIT_SPOOL_MAX_BYTES: '20000', PORTCULLIS_AUDIT_OVERFLOW: mode });
        const token = await pdp.token({ sub: 'agent-full', roles: ['reader'] });
        let last: { effect: string; reasons: { code: string }[] } | undefined;
        for (let index = 0; index < 40; index += 1) {
          last = (await pdp.decide({ subject_token: token, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql', sql: 'SELECT 1' } })).body as typeof last;
          await pdp.pdp.flushAudit();
        }
        assert.equal(last!.effect, expected, mode);
        if (mode === 'fail-closed') assert.ok(last!.reasons.some((reason) => reason.code === 'audit-unavailable'));
        const health = (await pdp.health()) as { status: string; audit: { details: { dropped_events: number } } };
        assert.equal(health.status, 'degraded');
        if (mode === 'fail-open') assert.ok(health.audit.details.dropped_events > 0);
        await pdp.close();
      }
    } finally {
      await broker.restart();
    }
  });
});
