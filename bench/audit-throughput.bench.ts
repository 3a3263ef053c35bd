/**
 * npm run bench:audit — what auditing to Kafka costs a decision, and what Kafka sustains.
 *
 * Two PDP processes on the same bundle and the same mix: one whose audit sink discards every
 * record (the no-sink baseline) and one auditing into a real single-node Kafka broker through its
 * spool. Both are driven by wrk over keep-alive connections on /v1/decisions; the ratio of their
 * throughput is the cost of the audit trail. Two more PDPs split that cost in the same rounds: a
 * JSONL sink (answers wait for its fsync, no Kafka) and Kafka with async durability (answers do
 * not wait for the spool's fsync). Records acknowledged by Kafka per second during the
 * run are the sustained rate into Kafka. Bytes on the record: per decision and per statement as
 * the JSONL sink stores them (a third PDP), and per record on the topics after the run (log
 * segment bytes / records, with the topics' compression).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../test/support/repository-root.ts';
import { startKafkaBroker, type KafkaBroker } from '../test/support/kafka-broker.ts';
import { measureJsonlRecordBytes, topicBytes } from './lib/audit-record-bytes.ts';
import { DECISION_MIX } from './lib/decision-mix.ts';
import { prepareMix, scrapeMetrics, startPdpProcess, type PdpProcess } from './lib/pdp-process.ts';
import { CpuMeter, sumOf, type CpuSpent } from './lib/cpu-meter.ts';
import { THREAD_LABELS_PRELOAD } from './lib/process-cpu.ts';
import { loadDescription, medianRun, runWrk, type WrkResult } from './lib/wrk.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const say = (message: string): void => console.error(`[bench:audit] ${message}`);

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-audit-'));
  let broker: KafkaBroker | undefined;
  const pdps: PdpProcess[] = [];
  try {
    say('preparing tools, bundle and a Kafka broker…');
    execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'install', 'wrk'], { stdio: 'inherit' });
    execFileSync(process.execPath, [join(REPOSITORY_ROOT, 'policies/build.mjs')], { stdio: 'inherit' });
    // A loaded machine can take minutes to start a JVM.
    broker = await startKafkaBroker({ fullJit: true, keepData: true, startTimeoutMs: 300_000 });
    const bundle = join(REPOSITORY_ROOT, 'policies/build/bundle.tar.gz');

    const baselineState = join(work, 'baseline');
    const kafkaState = join(work, 'kafka');
    mkdirSync(baselineState);
    mkdirSync(kafkaState);
    const baselineMix = await prepareMix(baselineState);
    const kafkaMix = await prepareMix(kafkaState);
    // BENCH_PDP_NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=DIR`) profiles both PDPs under this load.
    // Each PDP's threads are labelled, so the CPU of each round splits by thread (is one saturated?).
    const pdpNodeOptions = `--import ${THREAD_LABELS_PRELOAD} ${process.env.BENCH_PDP_NODE_OPTIONS ?? ''}`;
    const baselineLabels = join(work, 'threads-no-sink');
    const kafkaLabels = join(work, 'threads-kafka');
    mkdirSync(baselineLabels);
    mkdirSync(kafkaLabels);
    const baseline = await startPdpProcess('pdp-no-sink', { PORTCULLIS_STATE_DIR: baselineState, PORTCULLIS_BUNDLE_FILE: bundle, PORTCULLIS_AUDIT_SINK: 'discard', BENCH_THREAD_LABELS_DIR: baselineLabels }, pdpNodeOptions);
    pdps.push(baseline);
    const kafka = await startPdpProcess('pdp-kafka', { PORTCULLIS_STATE_DIR: kafkaState, PORTCULLIS_BUNDLE_FILE: bundle, PORTCULLIS_KAFKA_BROKERS: broker.brokers.join(','), BENCH_THREAD_LABELS_DIR: kafkaLabels }, pdpNodeOptions);
    pdps.push(kafka);
    // Two more ways that split the gap: durability without Kafka, and Kafka without answers
    // waiting for the spool's fsync.
    const jsonlState = join(work, 'jsonl-sync');
    const asyncState = join(work, 'kafka-async');
    mkdirSync(jsonlState);
    mkdirSync(asyncState);
    const jsonlMix = await prepareMix(jsonlState);
    const asyncMix = await prepareMix(asyncState);
    const jsonlPdp = await startPdpProcess('pdp-jsonl', { PORTCULLIS_STATE_DIR: jsonlState, PORTCULLIS_BUNDLE_FILE: bundle });
    pdps.push(jsonlPdp);
    const asyncPdp = await startPdpProcess('pdp-kafka-async', { PORTCULLIS_STATE_DIR: asyncState, PORTCULLIS_BUNDLE_FILE: bundle, PORTCULLIS_KAFKA_BROKERS: broker.brokers.join(','), PORTCULLIS_AUDIT_DURABILITY: 'async' });
    pdps.push(asyncPdp);

    const drive = (pdp: PdpProcess, mix: { rawBodies: string[]; pepToken: string }, name: string, seconds = SECONDS) => runWrk({
      url: `${pdp.url}/v1/decisions`, bodies: mix.rawBodies, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${mix.pepToken}` },
      connections: CONNECTIONS, threads: 1, seconds, scriptPath: join(work, `${name}.lua`),
    });
    say('warming up both…');
    await drive(baseline, baselineMix, 'warm-a', 3);
    await drive(kafka, kafkaMix, 'warm-b', 3);
    await drive(jsonlPdp, jsonlMix, 'warm-c', 3);
    await drive(asyncPdp, asyncMix, 'warm-d', 3);
    await waitForDrain(asyncPdp.url, 60_000);
    await waitForDrain(kafka.url, 60_000);

    const baselineRuns: WrkResult[] = [];
    const kafkaRuns: WrkResult[] = [];
    const jsonlRuns: WrkResult[] = [];
    const asyncRuns: WrkResult[] = [];
    const shippedRates: number[] = [];
    const brokerPid = Number(execFileSync('pgrep', ['-f', `${broker.dataDir}/server.properties`], { encoding: 'utf8' }).trim().split('\n')[0]);
    const cpuPerRequest = { no_sink_pdp_us: 0, kafka_pdp_us: 0, kafka_broker_us: 0 };
    const meter = new CpuMeter([
      { name: 'no-sink PDP', pid: baseline.process.pid!, threadLabelsDir: baselineLabels },
      { name: 'Kafka PDP', pid: kafka.process.pid!, threadLabelsDir: kafkaLabels },
      { name: 'broker', pid: brokerPid },
    ]);
    let baselineThreads: CpuSpent | undefined;
    let recordsPerFsync = 0;
    let kafkaThreads: CpuSpent | undefined;
    for (let round = 1; round <= ROUNDS; round += 1) {
      say(`round ${round}/${ROUNDS}: no sink…`);
      const baselineStart = meter.read();
      baselineRuns.push(await drive(baseline, baselineMix, 'baseline'));
      baselineThreads = CpuMeter.spent(baselineStart, meter.read());
      cpuPerRequest.no_sink_pdp_us = (sumOf(baselineThreads.seconds, 'no-sink PDP ') / baselineRuns.at(-1)!.requests) * 1e6;
      say(`round ${round}/${ROUNDS}: Kafka sink…`);
      const before = await scrapeMetrics(kafka.url);
      const started = Date.now();
      const kafkaStart = meter.read();
      kafkaRuns.push(await drive(kafka, kafkaMix, 'kafka'));
      kafkaThreads = CpuMeter.spent(kafkaStart, meter.read());
      cpuPerRequest.kafka_pdp_us = (sumOf(kafkaThreads.seconds, 'Kafka PDP ') / kafkaRuns.at(-1)!.requests) * 1e6;
      cpuPerRequest.kafka_broker_us = (kafkaThreads.seconds.broker! / kafkaRuns.at(-1)!.requests) * 1e6;
      const after = await scrapeMetrics(kafka.url);
      const shipped = (after.get('portcullis_audit_records_stored_total') ?? 0) - (before.get('portcullis_audit_records_stored_total') ?? 0);
      recordsPerFsync = kafkaRuns.at(-1)!.requests / Math.max(1, (after.get('portcullis_audit_fsyncs_total') ?? 0) - (before.get('portcullis_audit_fsyncs_total') ?? 0));
      shippedRates.push(shipped / ((Date.now() - started) / 1000));
      await waitForDrain(kafka.url, 120_000);
      say(`round ${round}/${ROUNDS}: JSONL sink (fsync'd, no Kafka)…`);
      jsonlRuns.push(await drive(jsonlPdp, jsonlMix, 'jsonl'));
      say(`round ${round}/${ROUNDS}: Kafka sink, async durability…`);
      asyncRuns.push(await drive(asyncPdp, asyncMix, 'kafka-async'));
      await waitForDrain(asyncPdp.url, 120_000);
    }
    const drainStarted = Date.now();
    await waitForDrain(kafka.url, 120_000);
    const backlogSeconds = (Date.now() - drainStarted) / 1000;

    // The sink's own ceiling: spool a backlog while the broker is away, then time its shipping.
    say('shipping capacity: stopping the broker, spooling a backlog, restarting it…');
    await broker.stop();
    const backlogBefore = await scrapeMetrics(kafka.url);
    await drive(kafka, kafkaMix, 'backlog', Math.max(5, Math.round(SECONDS / 2)));
    await broker.restart();
    const shipStarted = Date.now();
    await waitForDrain(kafka.url, 300_000);
    const shipSeconds = (Date.now() - shipStarted) / 1000;
    const backlogAfter = await scrapeMetrics(kafka.url);
    const backlogRecords = (backlogAfter.get('portcullis_audit_records_stored_total') ?? 0) - (backlogBefore.get('portcullis_audit_records_stored_total') ?? 0);
    const shippingCapacity = backlogRecords / shipSeconds;

    say('bytes on the record: JSONL files, then the topics…');
    const jsonlBytes = await measureJsonlRecordBytes(join(work, 'jsonl'), bundle);
    const prefix = 'portcullis';
    // The Kafka PDP only decides here: its sessions topic stays empty.
    const onTopics = [await topicBytes(broker.brokers, broker.dataDir, `${prefix}.decisions.v1`)];
    const decisionsTopic = onTopics[0]!;

    const a = medianRun(baselineRuns);
    const b = medianRun(kafkaRuns);
    const jsonlWay = medianRun(jsonlRuns);
    const asyncWay = medianRun(asyncRuns);
    const sustained = [...shippedRates].sort((x, y) => x - y)[Math.floor((shippedRates.length - 1) / 2)]!;
    const result = {
      date: new Date().toISOString(),
      machine: { cores: availableParallelism(), node: process.version },
      load: loadDescription(CONNECTIONS, SECONDS, ROUNDS, DECISION_MIX.length),
      no_sink: a,
      kafka_sink: b,
      ratio_kafka_to_no_sink: b.requestsPerSecond / a.requestsPerSecond,
      jsonl_sink_sync: jsonlWay,
      ratio_jsonl_sync_to_no_sink: jsonlWay.requestsPerSecond / a.requestsPerSecond,
      kafka_sink_async_durability: asyncWay,
      ratio_kafka_async_to_no_sink: asyncWay.requestsPerSecond / a.requestsPerSecond,
      kafka_records_acknowledged_per_second: sustained,
      cpu_per_decision_us_last_round: cpuPerRequest,
      spool_records_per_fsync_last_round: recordsPerFsync,
      cores_busy_last_round: { no_sink: coresBusy(baselineThreads!, 'no-sink PDP'), kafka_sink: coresBusy(kafkaThreads!, 'Kafka PDP') },
      backlog_drain_seconds_after_run: backlogSeconds,
      spooled_backlog_records: backlogRecords,
      spooled_backlog_ship_seconds: shipSeconds,
      kafka_shipping_capacity_records_per_second: shippingCapacity,
      record_bytes_jsonl: jsonlBytes,
      record_bytes_on_topics: onTopics.map((topic) => ({ ...topic, bytes_per_record: topic.records > 0 ? topic.bytes / topic.records : null })),
    };
    mkdirSync(join(REPOSITORY_ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(REPOSITORY_ROOT, 'bench/results/audit-throughput.json'), `${JSON.stringify(result, null, 2)}\n`);

    const row = (name: string, r: WrkResult) => `${name.padEnd(36)} ${r.requestsPerSecond.toFixed(0).padStart(9)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)}`;
    console.log(`\nAudit cost — /v1/decisions, ${DECISION_MIX.length}-request mix, wrk ${CONNECTIONS} connections, ${SECONDS}s × ${ROUNDS} rounds (median), ${availableParallelism()} cores`);
    console.log(`${'PDP audit sink'.padEnd(36)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`);
    console.log(row('none (records discarded)', a));
    console.log(row('Kafka (spool → idempotent producer)', b));
    console.log(row('JSONL (fsync\'d, no Kafka)', jsonlWay));
    console.log(row('Kafka, async durability', asyncWay));
    console.log(`\nratio Kafka sink / no sink: ${result.ratio_kafka_to_no_sink.toFixed(2)}  (target ≥ 0.9)`);
    console.log(`where the gap is: JSONL sink / no sink ${result.ratio_jsonl_sync_to_no_sink.toFixed(2)} (answers wait for an fsync, no Kafka); Kafka with PORTCULLIS_AUDIT_DURABILITY=async / no sink ${result.ratio_kafka_async_to_no_sink.toFixed(2)} (Kafka, answers not waiting for the fsync)`);
    console.log(`sustained into Kafka: ${sustained.toFixed(0)} records/s acknowledged (acks=all, idempotent, compression ${process.env.PORTCULLIS_KAFKA_COMPRESSION ?? 'gzip'})`);
    console.log(`CPU per decision (last round): PDP ${cpuPerRequest.no_sink_pdp_us.toFixed(0)} µs without a sink, ${cpuPerRequest.kafka_pdp_us.toFixed(0)} µs with Kafka, plus ${cpuPerRequest.kafka_broker_us.toFixed(0)} µs in the broker (same 2 cores)`);
    console.log(`spool group commits (last round): ${recordsPerFsync.toFixed(2)} decisions per fdatasync`);
    console.log('cores busy in the last round, by thread (1.00 = one core all the time):');
    for (const [way, shares] of Object.entries(result.cores_busy_last_round)) {
      console.log(`  ${way.padEnd(10)} ${Object.entries(shares).map(([name, share]) => `${name} ${share.toFixed(2)}`).join(', ')}`);
    }
    console.log(`backlog after the last run drained in ${backlogSeconds.toFixed(1)} s`);
    console.log(`shipping capacity: a ${backlogRecords}-record backlog spooled during an outage reached Kafka in ${shipSeconds.toFixed(1)} s = ${shippingCapacity.toFixed(0)} records/s`);
    console.log('\nBytes on the record');
    console.log(`JSONL: ${jsonlBytes.decision_one_line_select} B for the decision of a one-line SELECT, ${jsonlBytes.decision_mix_mean.toFixed(0)} B per decision of the mix; ${jsonlBytes.statement_alone} B for a statement posted alone, ${jsonlBytes.statement_in_batch.toFixed(0)} B per statement posted with 99 others`);
    for (const topic of onTopics) {
      console.log(`topic ${topic.topic} (compression.type ${topic.compression}): ${topic.records} records in ${topic.bytes} B of log segments = ${topic.records > 0 ? (topic.bytes / topic.records).toFixed(0) : '-'} B per record`);
    }
    if (decisionsTopic.records > 0) console.log(`decisions on the topic: ${(decisionsTopic.bytes / decisionsTopic.records).toFixed(0)} B per decision of the mix (JSONL: ${jsonlBytes.decision_mix_mean.toFixed(0)} B)`);
  } finally {
    await Promise.all(pdps.map((pdp) => pdp.stop()));
    await broker?.stop();
    if (broker) rmSync(broker.dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Cores busy per thread of the PDP measured (`main`, `policy-worker`, `audit-worker`, `other`:
 * GC helpers and libuv's pool), the broker, wrk and the whole machine, over one round: a thread
 * near 1.00 is the round's bottleneck; the machine well under 2.00 means the load waits on something.
 */
function coresBusy(spent: CpuSpent, pdp: string): Record<string, number> {
  const shares: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(spent.seconds)) {
    const kept = name.startsWith(`${pdp} `) ? name.slice(pdp.length + 1) : name === 'broker' || name === 'load generator' || name === 'machine' ? name : undefined;
    if (kept !== undefined) shares[kept === 'load generator' ? 'wrk' : kept] = seconds / spent.elapsedSeconds;
  }
  return shares;
}

/** Waits until the Kafka sink's spool is empty: every record acknowledged. */
async function waitForDrain(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${url}/health`)).json()) as { audit: { details?: { spool_bytes?: number } } };
    if ((health.audit.details?.spool_bytes ?? 0) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the Kafka sink did not drain its spool within ${timeoutMs} ms`);
}

main().catch((error: unknown) => {
  console.error(`[bench:audit] failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
