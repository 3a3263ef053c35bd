import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { prepareMix, startPdpProcess } from './pdp-process.ts';

/** Bytes of audit records as the JSONL sink stores them, per kind of record. */
export interface JsonlRecordBytes {
  /** One decision record: an allowed one-line SELECT in a session. */
  readonly decision_one_line_select: number;
  /** Mean over the decision mix (SQL, Kubernetes, shell, HTTP; allows, denies, approvals). */
  readonly decision_mix_mean: number;
  /** A statement posted alone: one `session.statement` record. */
  readonly statement_alone: number;
  /** Per statement, when a PEP posts a session's statements together (`session.statements` runs). */
  readonly statement_in_batch: number;
}

const STATEMENTS_IN_BATCH = 100;

/**
 * Starts a PDP on the JSONL sink, makes the decisions and posts the statements, and reads the
 * bytes each added to decisions.jsonl and sessions.jsonl (answers wait for durable records,
 * so the files hold them when the answer comes).
 */
export async function measureJsonlRecordBytes(stateDir: string, bundle: string, mixRounds = 3): Promise<JsonlRecordBytes> {
  mkdirSync(stateDir, { recursive: true });
  const mix = await prepareMix(stateDir);
  const pdp = await startPdpProcess('pdp-jsonl-bytes', { PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_BUNDLE_FILE: bundle });
  const audit = join(stateDir, 'audit');
  const size = (stream: string): number => (existsSync(join(audit, `${stream}.jsonl`)) ? statSync(join(audit, `${stream}.jsonl`)).size : 0);
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${mix.pepToken}` };
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${pdp.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  };
  try {
    const resource = { type: 'postgres', name: 'orders-db', environment: 'production' };
    const session = { id: 'bench-bytes-session', client_addr: '10.20.30.40:51234' };
    const before = size('decisions');
    const select = await post('/v1/decisions', { subject_token: mix.tokens.reader, resource, action: { type: 'sql', sql: 'SELECT id, total FROM orders WHERE id = 42' }, session });
    if (select.effect !== 'allow') throw new Error(`the one-line SELECT was not allowed: ${JSON.stringify(select)}`);
    const oneLine = size('decisions') - before;

    const mixBefore = size('decisions');
    for (let round = 0; round < mixRounds; round += 1) {
      for (const body of mix.rawBodies) await post('/v1/decisions', JSON.parse(body));
    }
    const mixMean = (size('decisions') - mixBefore) / (mixRounds * mix.rawBodies.length);

    const statement = (index: number) => ({
      event: 'session.statement', event_id: `bench-statement-${index}`, time: new Date().toISOString(), subject_token: mix.tokens.reader,
      session, protocol: 'sql', resource, statement: { text: 'SELECT id, total FROM orders WHERE id = 42', kind: 'select' },
      decision_id: select.decision_id, status: 'success', duration_ms: 0.42, rows: 1, bytes: 48, masked_cells: 0,
    });
    const aloneBefore = size('sessions');
    await post('/v1/sessions/events', { events: [statement(0)] });
    const alone = size('sessions') - aloneBefore;
    const batchBefore = size('sessions');
    await post('/v1/sessions/events', { events: Array.from({ length: STATEMENTS_IN_BATCH }, (_, index) => statement(index + 1)) });
    const inBatch = (size('sessions') - batchBefore) / STATEMENTS_IN_BATCH;
    return { decision_one_line_select: oneLine, decision_mix_mean: mixMean, statement_alone: alone, statement_in_batch: inBatch };
  } finally {
    await pdp.stop();
  }
}

/** What a topic holds: its log segments' bytes and its records (the sum of its partitions' end offsets). */
export interface TopicBytes {
  readonly topic: string;
  readonly bytes: number;
  readonly records: number;
  readonly compression: string;
}

/** Reads a topic's segment bytes from the broker's log folder (`<dataDir>/data/<topic>-<partition>/*.log`) and its record count. */
export async function topicBytes(brokers: readonly string[], dataDir: string, topic: string): Promise<TopicBytes> {
  const logs = join(dataDir, 'data');
  let bytes = 0;
  for (const folder of readdirSync(logs).filter((name) => name.startsWith(`${topic}-`) && /-\d+$/.test(name))) {
    for (const file of readdirSync(join(logs, folder)).filter((name) => name.endsWith('.log'))) bytes += statSync(join(logs, folder, file)).size;
  }
  const kafka = new Kafka({ clientId: 'bench-topic-bytes', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const records = offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['compression.type'] }] });
    const compression = configs.resources[0]?.configEntries.find((entry) => entry.configName === 'compression.type')?.configValue ?? 'unknown';
    return { topic, bytes, records, compression };
  } finally {
    await admin.disconnect();
  }
}
