/**
 * npm run bench:cost — what a decision, a recorded statement and an audit record cost in CPU, by
 * component, at a fixed offered rate; and from those, what one PDP host sustains and how many
 * replicas a load needs.
 *
 * The deployed shape on one machine: a real Redis (approvals), a real Kafka broker (audit), a
 * real PostgreSQL, one PDP replica (`portcullis serve`, configured as in bench:pdp-scaling) and
 * the Postgres PEP in front of the database deciding through it. Two phases, each at a fixed
 * rate well below saturation (a rate, not saturation, so CPU per operation is not inflated by
 * queueing, context switches and batching that collapse under overload):
 *
 * - decisions: wrk on /v1/decisions with the bench mix, each connection pausing between requests;
 * - statements: pgbench -S -R (select-only, Poisson-spaced at a fixed rate) through the PEP,
 *   every statement on the session record (decided, or run under the policy's reuse grant).
 *
 * Each phase's rate is a fraction (BENCH_RATE_FRACTION, 0.4) of what a short saturation probe
 * reached in the same run, or BENCH_DECISION_RATE / BENCH_STATEMENT_RATE. CPU is read from /proc
 * for every process (the PDP split by thread: main, policy worker, audit worker, the rest) from
 * the phase's start until its audit records have all landed, less what that process spends idle
 * over as long (measured first, with no load: timers, signed digests, the broker's housekeeping),
 * and divided by the operations and by the audit records stored.
 *
 *   BENCH_SECONDS (15), BENCH_RATE_FRACTION (0.4), BENCH_DECISION_RATE, BENCH_STATEMENT_RATE,
 *   BENCH_HEADROOM (0.6: the share of a host's CPU the sizing rule plans to use)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../test/support/repository-root.ts';
import { startKafkaBroker, type KafkaBroker } from '../test/support/kafka-broker.ts';
import { startTestPostgres, type TestPostgres } from '../test/support/postgres-server.ts';
import { RedisServer } from '../test/support/redis-server.ts';
import { settleAuditRecords } from './lib/audit-drain.ts';
import { writeBenchPolicyPack } from './lib/bench-policy-pack.ts';
import { CpuMeter, sumOf, type CpuSpent } from './lib/cpu-meter.ts';
import { DECISION_MIX } from './lib/decision-mix.ts';
import { pidListeningOn } from './lib/listening-process.ts';
import { labelledThreadCounts } from './lib/process-cpu.ts';
import { startPdpReplicas, type PdpReplicaSet } from './lib/pdp-replicas.ts';
import { startPepPostgresProcess } from './lib/pep-postgres-process.ts';
import { runPgbenchSelectOnly, type PgbenchTarget } from './lib/pgbench-run.ts';
import { sampleDelta, scrapeLabelledSamples } from './lib/prometheus-samples.ts';
import type { Service } from './lib/processes.ts';
import { runWrk } from './lib/wrk.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const RATE_FRACTION = Number(process.env.BENCH_RATE_FRACTION ?? 0.4);
const HEADROOM = Number(process.env.BENCH_HEADROOM ?? 0.6);
const PROBE_SECONDS = 4;
// One digest interval (PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS, 10): the idle window holds one signed digest and checkpoint.
const IDLE_SECONDS = 10;
const WRK_CONNECTIONS = 16;
const PG_CLIENTS = 8;
const RESOURCE = { name: 'bench-db', type: 'postgres', environment: 'production' } as const;
const DATABASE = 'bench';
const DB_USER = 'bench';
const AGENT = { sub: 'agent-bench', roles: ['reader'], kind: 'agent' as const };
const TOPIC_PREFIX = 'cost';
const say = (message: string): void => console.error(`[bench:cost] ${message}`);

/** One phase's figures: operations done, what the PDP recorded, and the CPU it all took. */
interface Phase {
  readonly operation: 'decision' | 'statement';
  readonly offeredPerSecond: number;
  readonly achievedPerSecond: number;
  readonly saturationProbePerSecond: number;
  readonly operations: number;
  readonly auditRecords: number;
  readonly decisions: number;
  readonly cpu: CpuSpent;
  /** CPU seconds by name net of what each process spends idle over the same time: the operations' own. */
  readonly marginal: Record<string, number>;
  readonly loadAverage: readonly number[];
}

/** Cores each process keeps busy with no load (timers, digests and checkpoints, the broker's housekeeping). */
type IdleCores = Record<string, number>;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-cost-'));
  const services: Service[] = [];
  let broker: KafkaBroker | undefined;
  let redis: RedisServer | undefined;
  let postgres: TestPostgres | undefined;
  let set: PdpReplicaSet | undefined;
  try {
    const cores = availableParallelism();
    say('preparing wrk, Redis, a Kafka broker and PostgreSQL with pgbench tables…');
    execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'install', 'wrk'], { stdio: 'inherit' });
    redis = await RedisServer.start();
    broker = await startKafkaBroker({ fullJit: true });
    const dbPassword = randomBytes(16).toString('hex');
    postgres = await startTestPostgres({ seed: `CREATE ROLE ${DB_USER} LOGIN PASSWORD '${dbPassword}';` });
    await postgres.sql(`CREATE DATABASE ${DATABASE} OWNER ${DB_USER}`);
    const pgbench = join(postgres.binDir, 'pgbench');
    execFileSync(pgbench, ['-i', '-q', '-s', '1', '-h', '127.0.0.1', '-p', String(postgres.port), '-U', DB_USER, DATABASE], {
      env: { PATH: process.env.PATH, PGPASSWORD: dbPassword }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    const postmasterPid = Number(readFileSync(join(postgres.dataDir, 'data/postmaster.pid'), 'utf8').split('\n')[0]);

    say('starting the PDP (one replica of a deployment: Redis, Kafka) and the Postgres PEP…');
    set = await startPdpReplicas({
      work, count: 1, policy: { policyDir: writeBenchPolicyPack(join(work, 'policy'), RESOURCE) },
      kafkaBrokers: broker.brokers.join(','), kafkaTopicPrefix: TOPIC_PREFIX, redisUrl: redis.url,
    });
    const pdp = set.replicas[0]!;
    const pepToken = await set.mix.issuer.issue({ sub: 'pep-bench-db', roles: ['pep'], resources: [RESOURCE.name], ttlSeconds: 6 * 3600 });
    const agentToken = await set.mix.issuer.issue({ ...AGENT, ttlSeconds: 6 * 3600 });
    const pep = await startPepPostgresProcess({
      pdpUrl: pdp.url, pepToken, resourceName: RESOURCE.name, resourceEnvironment: RESOURCE.environment,
      upstreamPort: postgres.port, upstreamDatabase: DATABASE, upstreamUser: DB_USER, upstreamPassword: dbPassword,
    });
    services.push(pep);
    const meter = new CpuMeter([
      { name: 'pdp', pid: pdp.process.pid!, threadLabelsDir: pdp.threadLabelsDir },
      { name: 'pep', pid: pep.process.pid! },
      { name: 'kafka', pid: pidListeningOn(broker.port) },
      { name: 'redis', pid: pidListeningOn(redis.port) },
      { name: 'postgres', pid: postmasterPid },
    ]);

    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${set.mix.pepToken}` };
    const wrk = (seconds: number, delayMs?: number) => runWrk({
      url: `${pdp.url}/v1/decisions`, bodies: set!.mix.rawBodies, headers, connections: WRK_CONNECTIONS, threads: 2, seconds,
      scriptPath: join(work, 'decisions.lua'), timeoutSeconds: 10, ...(delayMs === undefined ? {} : { delayMs }),
    });
    const viaPep: PgbenchTarget = { port: pep.port, user: AGENT.sub, database: DATABASE, password: agentToken };
    const pgbenchLoad = (seconds: number, ratePerSecond?: number) => runPgbenchSelectOnly(pgbench, viaPep, {
      clients: PG_CLIENTS, threads: 2, seconds, progressSeconds: 0, queryMode: 'simple', ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
    }, () => undefined);

    say(`idle: ${IDLE_SECONDS} s with no load, for what each process spends anyway…`);
    await settleAuditRecords(pdp.url);
    const idleStart = meter.read();
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const idleSpent = CpuMeter.spent(idleStart, meter.read());
    const idle: IdleCores = Object.fromEntries(Object.entries(idleSpent.seconds).map(([name, seconds]) => [name, seconds / idleSpent.elapsedSeconds]));

    /** Runs `load` and accounts everything from its start until its audit records have landed. */
    const measure = async (operation: Phase['operation'], offered: number, probe: number, load: () => Promise<number>): Promise<Phase> => {
      const metricsBefore = await scrapeLabelledSamples(pdp.url);
      const start = meter.read();
      const started = Date.now();
      const operations = await load();
      const loadSeconds = (Date.now() - started) / 1000;
      const loadAverage = loadavg();
      await settleAuditRecords(pdp.url);
      const cpu = CpuMeter.spent(start, meter.read());
      const metricsAfter = await scrapeLabelledSamples(pdp.url);
      const marginal = Object.fromEntries(Object.entries(cpu.seconds).map(([name, seconds]) => [name, Math.max(0, seconds - (idle[name] ?? 0) * cpu.elapsedSeconds)]));
      return {
        operation, offeredPerSecond: offered, achievedPerSecond: operations / loadSeconds, saturationProbePerSecond: probe, operations,
        auditRecords: sampleDelta(metricsBefore, metricsAfter, 'portcullis_audit_records_stored_total'),
        decisions: sampleDelta(metricsBefore, metricsAfter, 'portcullis_decisions_total'),
        cpu, marginal, loadAverage,
      };
    };

    say(`decisions: warm-up and a ${PROBE_SECONDS} s saturation probe…`);
    await wrk(3).catch((error: unknown) => say(`  (warm-up: ${(error as Error).message})`));
    await settleAuditRecords(pdp.url);
    const decisionProbe = (await wrk(PROBE_SECONDS)).requestsPerSecond;
    await settleAuditRecords(pdp.url);
    const decisionRate = Number(process.env.BENCH_DECISION_RATE ?? Math.max(10, decisionProbe * RATE_FRACTION));
    say(`decisions: ${decisionRate.toFixed(0)}/s offered for ${SECONDS} s (probe reached ${decisionProbe.toFixed(0)}/s)…`);
    // Each connection waits `delay` between answers: WRK_CONNECTIONS / delay is the offered rate.
    const decisions = await measure('decision', decisionRate, decisionProbe, async () => (await wrk(SECONDS, (WRK_CONNECTIONS * 1000) / decisionRate)).requests);

    say(`statements: warm-up and a ${PROBE_SECONDS} s saturation probe through the PEP…`);
    await pgbenchLoad(3);
    await settleAuditRecords(pdp.url);
    const statementProbe = (await pgbenchLoad(PROBE_SECONDS)).tps;
    await settleAuditRecords(pdp.url);
    const statementRate = Number(process.env.BENCH_STATEMENT_RATE ?? Math.max(10, statementProbe * RATE_FRACTION));
    say(`statements: pgbench -S -R ${statementRate.toFixed(0)} through the PEP for ${SECONDS} s (probe reached ${statementProbe.toFixed(0)}/s)…`);
    const statements = await measure('statement', statementRate, statementProbe, async () => {
      const result = await pgbenchLoad(SECONDS, statementRate);
      if (result.failedTransactions > 0) throw new Error(`${result.failedTransactions} statements failed through the PEP: the run measures failures`);
      return result.transactions;
    });

    const threadCounts = labelledThreadCounts(pdp.process.pid!, pdp.threadLabelsDir);
    const report = costReport([decisions, statements], cores, idle, threadCounts);
    const result = {
      date: new Date().toISOString(),
      machine: { cores, node: process.version },
      load: { decisions: { generator: 'wrk', connections: WRK_CONNECTIONS, mix: DECISION_MIX.length }, statements: { generator: 'pgbench -S -R', clients: PG_CLIENTS }, seconds: SECONDS, rate_fraction: RATE_FRACTION },
      idle_cores: idle,
      phases: [decisions, statements].map((phase) => ({ ...phase, cpu: { elapsed_seconds: phase.cpu.elapsedSeconds, seconds: phase.cpu.seconds } })),
      ...report,
    };
    mkdirSync(join(REPOSITORY_ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(REPOSITORY_ROOT, 'bench/results/cost-model.json'), `${JSON.stringify(result, null, 2)}\n`);
    printReport([decisions, statements], report, cores, idle);
  } finally {
    await Promise.all(services.map((service) => service.stop().catch(() => undefined)));
    await set?.stop();
    await broker?.stop();
    await redis?.kill('SIGTERM');
    await postgres?.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

/** The components of the table, each a sum of CpuMeter entries by prefix (exact name, or a process's threads). */
const COMPONENTS: readonly { readonly label: string; readonly prefix: string }[] = [
  { label: 'PDP main thread (HTTP, tokens, parsing, enrichment)', prefix: 'pdp main' },
  { label: 'PDP policy worker threads (WASM)', prefix: 'pdp policy-worker' },
  { label: 'PDP audit thread (OCSF, chain, spool, Kafka producer)', prefix: 'pdp audit-worker' },
  { label: 'PDP other threads (GC, libuv pool…)', prefix: 'pdp other' },
  { label: 'PDP, all threads', prefix: 'pdp ' },
  { label: 'Postgres PEP', prefix: 'pep' },
  { label: 'Kafka broker', prefix: 'kafka' },
  { label: 'Redis', prefix: 'redis' },
  { label: 'PostgreSQL', prefix: 'postgres' },
  { label: 'load generator (wrk / pgbench)', prefix: 'load generator' },
];

function perOperationUs(phase: Phase): Record<string, number> {
  const values: Record<string, number> = {};
  for (const { label, prefix } of COMPONENTS) values[label] = (sumOf(phase.marginal, prefix) / phase.operations) * 1e6;
  // Worker modules the table does not name (a new thread in a later version) still count in "all threads".
  const named = ['pdp main', 'pdp policy-worker', 'pdp audit-worker', 'pdp other'];
  const unnamed = Object.entries(phase.marginal).filter(([name]) => name.startsWith('pdp ') && !named.includes(name));
  for (const [name, seconds] of unnamed) values[`PDP ${name.slice(4)} threads`] = (seconds / phase.operations) * 1e6;
  values['machine, all busy time'] = (phase.marginal.machine! / phase.operations) * 1e6;
  return values;
}

/**
 * From CPU per operation to capacity: one PDP host of `cores` sustains the lower of its cores
 * over the PDP's CPU per operation and, per thread, one core over that thread's CPU (a Node.js
 * thread uses one core at most; the main thread and the audit thread are one each).
 */
function costReport(phases: readonly Phase[], cores: number, idle: IdleCores, threadCounts: Record<string, number>) {
  const sustained = (phase: Phase) => {
    const pdpUs = (sumOf(phase.marginal, 'pdp ') / phase.operations) * 1e6;
    const limits: Record<string, number> = { [`${cores} cores / PDP CPU per ${phase.operation}`]: ((cores - sumOf(idle, 'pdp ')) * 1e6) / pdpUs };
    // Each labelled thread kind (main, audit worker, the policy workers — as many as the PDP runs —
    // and any worker a later version adds) can use one core per thread at most.
    for (const [label, count] of Object.entries(threadCounts)) {
      const name = `pdp ${label}`;
      const us = ((phase.marginal[name] ?? 0) / phase.operations) * 1e6;
      if (us > 0) limits[`${label} thread${count > 1 ? `s (${count})` : ''}`] = ((count - (idle[name] ?? 0)) * 1e6) / us;
    }
    const [limit, perSecond] = Object.entries(limits).sort((a, b) => a[1] - b[1])[0]!;
    return { pdp_us: pdpUs, per_second: perSecond, bound_by: limit, limits };
  };
  const [decisions, statements] = phases as [Phase, Phase];
  const audit = (phase: Phase) => ({
    records_per_operation: phase.auditRecords / phase.operations,
    pdp_audit_thread_us_per_record: ((phase.marginal['pdp audit-worker'] ?? 0) / phase.auditRecords) * 1e6,
    pdp_us_per_record: (sumOf(phase.marginal, 'pdp ') / phase.auditRecords) * 1e6,
    kafka_us_per_record: ((phase.marginal.kafka ?? 0) / phase.auditRecords) * 1e6,
  });
  return {
    per_decision_us: perOperationUs(decisions),
    per_statement_us: perOperationUs(statements),
    decisions_per_statement: statements.decisions / statements.operations,
    audit: { decisions: audit(decisions), statements: audit(statements) },
    one_pdp_host: { cores, decisions: sustained(decisions), statements: sustained(statements) },
    pdp_threads: threadCounts,
    headroom: HEADROOM,
  };
}

function printReport(phases: readonly Phase[], report: ReturnType<typeof costReport>, cores: number, idle: IdleCores): void {
  const [decisions, statements] = phases as [Phase, Phase];
  const load = (phase: Phase) => phase.loadAverage.map((value) => value.toFixed(1)).join(' ');
  console.log(`\nCost model — CPU µs per operation by component, at a fixed offered rate (${cores} cores; CPU counted until the phase's audit records landed)`);
  console.log(`decisions: /v1/decisions, ${DECISION_MIX.length}-request mix, ${decisions.offeredPerSecond.toFixed(0)}/s offered, ${decisions.achievedPerSecond.toFixed(0)}/s done (${(decisions.offeredPerSecond / decisions.saturationProbePerSecond * 100).toFixed(0)}% of the ${decisions.saturationProbePerSecond.toFixed(0)}/s probe), ${decisions.operations} in ${SECONDS} s; load average ${load(decisions)}`);
  console.log(`statements: pgbench -S -R through the Postgres PEP, ${statements.offeredPerSecond.toFixed(0)}/s offered, ${statements.achievedPerSecond.toFixed(0)}/s done (probe ${statements.saturationProbePerSecond.toFixed(0)}/s), ${statements.operations} statements, ${report.decisions_per_statement.toFixed(3)} decisions each; load average ${load(statements)}`);
  const labels = [...new Set([...Object.keys(report.per_decision_us), ...Object.keys(report.per_statement_us)])];
  const idleOf = (label: string): string => {
    const component = COMPONENTS.find((item) => item.label === label);
    const prefix = component?.prefix ?? (label === 'machine, all busy time' ? 'machine' : undefined);
    return prefix === undefined ? '–' : sumOf(idle, prefix).toFixed(3);
  };
  console.log(`\n${'component'.padEnd(54)} ${'µs/decision'.padStart(12)} ${'µs/statement'.padStart(13)} ${'idle cores'.padStart(11)}`);
  for (const label of labels) {
    const cell = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(0));
    console.log(`${label.padEnd(54)} ${cell(report.per_decision_us[label]).padStart(12)} ${cell(report.per_statement_us[label]).padStart(13)} ${idleOf(label).padStart(11)}`);
  }
  console.log('(µs per operation net of each process\'s idle CPU over the same time; idle cores: what it spends with no load)');
  const { decisions: a, statements: b } = report.audit;
  console.log(`\naudit records: ${a.records_per_operation.toFixed(2)} per decision, ${b.records_per_operation.toFixed(3)} per statement`);
  console.log(`per audit record (decisions phase / statements phase): PDP audit thread ${a.pdp_audit_thread_us_per_record.toFixed(0)} / ${b.pdp_audit_thread_us_per_record.toFixed(0)} µs, Kafka broker ${a.kafka_us_per_record.toFixed(0)} / ${b.kafka_us_per_record.toFixed(0)} µs`);
  const host = report.one_pdp_host;
  const line = (what: string, item: typeof host.decisions) =>
    `  ${what}: ${item.per_second.toFixed(0)}/s at 100% (bound by ${item.bound_by}); ${(item.per_second * HEADROOM).toFixed(0)}/s at ${(HEADROOM * 100).toFixed(0)}%  [${Object.entries(item.limits).map(([name, value]) => `${name} ${value.toFixed(0)}`).join(', ')}]`;
  console.log(`\none ${cores}-core PDP host (PDP alone on it; Kafka, Redis and the PEPs elsewhere; its threads: ${Object.entries(report.pdp_threads).map(([label, count]) => `${label} ${count}`).join(', ')}):`);
  console.log(line('decisions', host.decisions));
  console.log(line('recorded statements', host.statements));
  const dec = host.decisions.per_second * HEADROOM;
  const stmt = host.statements.per_second * HEADROOM;
  console.log(`\nsizing: PDP replicas = ceil(decisions/s ÷ ${dec.toFixed(0)} + statements/s ÷ ${stmt.toFixed(0)}) + 1 (each term one host's capacity at ${(HEADROOM * 100).toFixed(0)}%; the + 1 a spare for a replica lost or restarting)`);
  for (const rate of [1000, 10_000, 50_000]) {
    console.log(`  ${rate.toLocaleString('en')} statements/s → ${Math.ceil(rate / stmt) + 1} replicas; Kafka takes ${((rate * b.records_per_operation * b.kafka_us_per_record) / 1e6).toFixed(2)} cores for their records`);
  }
}

main().catch((error: unknown) => {
  console.error(`[bench:cost] failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
