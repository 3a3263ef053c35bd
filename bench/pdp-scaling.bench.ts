/**
 * npm run bench:pdp-scaling — does decision throughput grow with PDP replicas sharing one Redis
 * (approvals) and one Kafka (audit)?
 *
 * Two real `portcullis serve` processes configured as replicas of one deployment (one trusted
 * issuer, one decision-id key, one Redis, one Kafka topic prefix; each its own state folder, so its
 * own spool, producer id, chains and audit signing key) on one real Redis and one real Kafka
 * broker. wrk drives the full /v1/decisions path (token, parsing, evaluation, approvals, the
 * durable audit record) with the bench mix, its two threads on one replica or one thread on each.
 * Four configurations, rounds alternating: one replica and two, each unpinned (the scheduler
 * spreads everything over the cores) and pinned (`taskset`: replica 1 on core 0, replica 2 on
 * core 1; Redis, Kafka and wrk unpinned). For each it prints throughput, latency and where the
 * cores went (each replica, Kafka, Redis, wrk, the rest of the machine), then the ratios two
 * replicas / one. Afterwards the replicas stop and `portcullis audit verify` checks the trail they
 * wrote together against both replicas' signing keys.
 *
 *   BENCH_SECONDS (10), BENCH_ROUNDS (2), BENCH_CONNECTIONS (16 per replica)
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPOSITORY_ROOT } from '../test/support/repository-root.ts';
import { startKafkaBroker, type KafkaBroker } from '../test/support/kafka-broker.ts';
import { RedisServer } from '../test/support/redis-server.ts';
import { waitForAuditDrain } from './lib/audit-drain.ts';
import { pinProcess } from './lib/cpu-affinity.ts';
import { CpuMeter, sumOf, type CpuSpent } from './lib/cpu-meter.ts';
import { DECISION_MIX } from './lib/decision-mix.ts';
import { pidListeningOn } from './lib/listening-process.ts';
import { scrapeMetrics } from './lib/pdp-process.ts';
import { startPdpReplicas, type PdpReplica, type PdpReplicaSet } from './lib/pdp-replicas.ts';
import { loadDescription, medianRun, runWrk, type WrkResult } from './lib/wrk.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS_PER_REPLICA = Number(process.env.BENCH_CONNECTIONS ?? 16);
const TOPIC_PREFIX = 'scaling';
const say = (message: string): void => console.error(`[bench:pdp-scaling] ${message}`);
const run = promisify(execFile);

interface Configuration {
  readonly name: string;
  readonly replicas: 1 | 2;
  readonly pinned: boolean;
}

const CONFIGURATIONS: readonly Configuration[] = [
  { name: 'one replica, unpinned', replicas: 1, pinned: false },
  { name: 'two replicas, unpinned', replicas: 2, pinned: false },
  { name: 'one replica on core 0', replicas: 1, pinned: true },
  { name: 'two replicas, core 0 and core 1', replicas: 2, pinned: true },
];

interface Measured {
  readonly wrk: WrkResult;
  readonly cpu: CpuSpent;
  readonly loadAverage: number;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-scaling-'));
  let broker: KafkaBroker | undefined;
  let redis: RedisServer | undefined;
  let set: PdpReplicaSet | undefined;
  try {
    const cores = availableParallelism();
    say('preparing wrk, the bundle, Redis and a Kafka broker…');
    execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'install', 'wrk'], { stdio: 'inherit' });
    execFileSync(process.execPath, [join(REPOSITORY_ROOT, 'policies/build.mjs')], { stdio: 'inherit' });
    redis = await RedisServer.start();
    broker = await startKafkaBroker({ fullJit: true });
    say('starting two PDP replicas…');
    set = await startPdpReplicas({
      work, count: 2, policy: { bundleFile: join(REPOSITORY_ROOT, 'policies/build/bundle.tar.gz') },
      kafkaBrokers: broker.brokers.join(','), kafkaTopicPrefix: TOPIC_PREFIX, redisUrl: redis.url,
    });
    const replicas = set.replicas;
    const meter = new CpuMeter([
      ...replicas.map((replica) => ({ name: replica.name, pid: replica.process.pid!, threadLabelsDir: replica.threadLabelsDir })),
      { name: 'kafka', pid: pidListeningOn(broker.port) },
      { name: 'redis', pid: pidListeningOn(redis.port) },
    ]);
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${set.mix.pepToken}` };
    const drive = (targets: readonly PdpReplica[], name: string, seconds: number): Promise<WrkResult> => runWrk({
      url: `${replicas[0]!.url}/v1/decisions`, servers: [...targets, ...targets].slice(0, 2).map((replica) => new URL(replica.url).host),
      bodies: set!.mix.rawBodies, headers, connections: CONNECTIONS_PER_REPLICA * targets.length, threads: 2, seconds,
      scriptPath: join(work, `${name}.lua`), timeoutSeconds: 10,
    });
    const drain = async (): Promise<void> => {
      await Promise.all(replicas.map((replica) => waitForAuditDrain(replica.url, 180_000)));
    };
    const pin = (pinned: boolean): void => {
      replicas.forEach((replica, index) => pinProcess(replica.process.pid!, pinned ? String(index % cores) : `0-${cores - 1}`));
    };

    say('warming up both replicas…');
    // Cold JIT and the first records into new topics can outlast wrk's 2 s timeout: not measured.
    await drive(replicas, 'warm', 3).catch((error: unknown) => say(`  (warm-up: ${(error as Error).message})`));
    await drive(replicas, 'warm', 3).catch((error: unknown) => say(`  (warm-up: ${(error as Error).message})`));
    await drain();

    const configurations = cores >= 2 ? CONFIGURATIONS : CONFIGURATIONS.filter((configuration) => !configuration.pinned);
    const runs = new Map<string, Measured[]>(configurations.map((configuration) => [configuration.name, []]));
    const before = await Promise.all(replicas.map((replica) => scrapeMetrics(replica.url)));
    for (let round = 1; round <= ROUNDS; round += 1) {
      // Alternate the order, so drift in the machine's load weighs on every configuration alike.
      const order = round % 2 === 1 ? configurations : [...configurations].reverse();
      for (const configuration of order) {
        say(`round ${round}/${ROUNDS}: ${configuration.name}…`);
        pin(configuration.pinned);
        const start = meter.read();
        const wrk = await drive(replicas.slice(0, configuration.replicas), 'load', SECONDS);
        const cpu = CpuMeter.spent(start, meter.read());
        runs.get(configuration.name)!.push({ wrk, cpu, loadAverage: loadavg()[0]! });
        await drain();
      }
    }
    pin(false);
    const after = await Promise.all(replicas.map((replica) => scrapeMetrics(replica.url)));
    const recordsStored = after.map((metrics, index) => (metrics.get('portcullis_audit_records_stored_total') ?? 0) - (before[index]!.get('portcullis_audit_records_stored_total') ?? 0));

    say('stopping the replicas (each signs its stop record), then verifying the trail they wrote…');
    await set.stop();
    const jwks = set.writeTrustedJwks(join(work, 'trusted-replicas.jwks.json'));
    const verifyStarted = Date.now();
    const verification = await verifyTrail(broker.brokers.join(','), jwks, work);
    const verifySeconds = (Date.now() - verifyStarted) / 1000;

    const medians = configurations.map((configuration) => {
      const measured = runs.get(configuration.name)!;
      const wrk = medianRun(measured.map((item) => item.wrk));
      return { configuration, ...measured.find((item) => item.wrk === wrk)! };
    });
    const byName = (name: string) => medians.find((item) => item.configuration.name === name);
    const ratio = (two: string, one: string): number | undefined => {
      const a = byName(two);
      const b = byName(one);
      return a && b ? a.wrk.requestsPerSecond / b.wrk.requestsPerSecond : undefined;
    };
    const ratios = {
      unpinned_two_over_one: ratio('two replicas, unpinned', 'one replica, unpinned'),
      pinned_two_over_one: ratio('two replicas, core 0 and core 1', 'one replica on core 0'),
    };
    const shares = (cpu: CpuSpent) => ({
      replica_1: sumOf(cpu.seconds, `${replicas[0]!.name} `) / cpu.elapsedSeconds,
      replica_2: sumOf(cpu.seconds, `${replicas[1]!.name} `) / cpu.elapsedSeconds,
      kafka: cpu.seconds.kafka! / cpu.elapsedSeconds,
      redis: cpu.seconds.redis! / cpu.elapsedSeconds,
      wrk: cpu.seconds['load generator']! / cpu.elapsedSeconds,
      machine: cpu.seconds.machine! / cpu.elapsedSeconds,
    });

    const result = {
      date: new Date().toISOString(),
      machine: { cores, node: process.version },
      load: { ...loadDescription(CONNECTIONS_PER_REPLICA, SECONDS, ROUNDS, DECISION_MIX.length), connections_per_replica: CONNECTIONS_PER_REPLICA, wrk_threads: 2 },
      configurations: medians.map(({ configuration, wrk, cpu, loadAverage }) => ({
        ...configuration, ...wrk, load_average: loadAverage, cores_busy: shares(cpu),
        pdp_cpu_us_per_decision: ((sumOf(cpu.seconds, `${replicas[0]!.name} `) + sumOf(cpu.seconds, `${replicas[1]!.name} `)) / wrk.requests) * 1e6,
      })),
      ratios,
      audit_records_stored_per_replica: recordsStored,
      verify: { ...verification, seconds: verifySeconds },
    };
    mkdirSync(join(REPOSITORY_ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(REPOSITORY_ROOT, 'bench/results/pdp-scaling.json'), `${JSON.stringify(result, null, 2)}\n`);

    console.log(`\nPDP scaling — /v1/decisions, ${DECISION_MIX.length}-request mix, wrk 2 threads × ${CONNECTIONS_PER_REPLICA} connections per replica, ${SECONDS}s × ${ROUNDS} rounds (median), ${cores} cores; one Redis, one Kafka broker`);
    const header = ['configuration'.padEnd(32), 'req/s', 'p50 ms', 'p99 ms', 'PDP µs/dec', '| cores: PDP 1', 'PDP 2', 'Kafka', 'Redis', 'wrk', 'machine', 'load avg'];
    console.log(header.map((cell, index) => (index === 0 ? cell : cell.padStart(index === 5 ? 14 : 9))).join(' '));
    for (const item of result.configurations) {
      const cells = [
        item.name.padEnd(32), item.requestsPerSecond.toFixed(0), item.p50Ms.toFixed(2), item.p99Ms.toFixed(2), item.pdp_cpu_us_per_decision.toFixed(0),
        item.cores_busy.replica_1.toFixed(2), item.cores_busy.replica_2.toFixed(2), item.cores_busy.kafka.toFixed(2), item.cores_busy.redis.toFixed(2),
        item.cores_busy.wrk.toFixed(2), item.cores_busy.machine.toFixed(2), item.load_average.toFixed(1),
      ];
      console.log(cells.map((cell, index) => (index === 0 ? cell : cell.padStart(index === 5 ? 14 : 9))).join(' '));
    }
    const show = (value: number | undefined) => (value === undefined ? 'n/a' : value.toFixed(2));
    console.log(`\nratio two replicas / one, unpinned: ${show(ratios.unpinned_two_over_one)}`);
    console.log(`ratio two replicas / one, pinned (core 0 and 1 / core 0 alone; Kafka, Redis and wrk unpinned): ${show(ratios.pinned_two_over_one)}`);
    console.log(`audit records stored: ${recordsStored.map((count, index) => `replica ${index + 1} ${count}`).join(', ')}`);
    console.log(`\n${verification.output.trim()}`);
    console.log(`(audit verify of the ${TOPIC_PREFIX}.* topics: exit ${verification.exitCode}, ${verifySeconds.toFixed(1)} s)`);
    if (verification.exitCode !== 0) process.exitCode = 1;
  } finally {
    await set?.stop();
    await broker?.stop();
    await redis?.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

/** `portcullis audit verify` on the topics, pinned to the replicas' keys; its report and exit status. */
async function verifyTrail(brokers: string, jwks: string, work: string): Promise<{ exitCode: number; output: string }> {
  const args = [join(REPOSITORY_ROOT, 'pdp/bin/portcullis.mjs'), 'audit', 'verify', '--kafka', brokers, '--topic-prefix', TOPIC_PREFIX, '--jwks', jwks];
  const env = { ...process.env, PORTCULLIS_STATE_DIR: join(work, 'verifier') };
  try {
    const { stdout, stderr } = await run(process.execPath, args, { env, maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
    return { exitCode: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { exitCode: typeof failed.code === 'number' ? failed.code : 1, output: `${failed.stdout ?? ''}${failed.stderr ?? String(error)}` };
  }
}

main().catch((error: unknown) => {
  console.error(`[bench:pdp-scaling] failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
