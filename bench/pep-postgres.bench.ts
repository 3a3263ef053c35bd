/**
 * npm run bench:pep-postgres — what the Postgres PEP costs a database client, against pgbouncer.
 *
 * One run on 127.0.0.1 starts a real PostgreSQL (pgbench tables, a SCRAM password user), Debian's
 * pgbouncer in front of it, a real PDP process (audit on: JSONL, or Kafka when
 * PORTCULLIS_KAFKA_BROKERS is set) and the PEP process in front of PostgreSQL deciding through
 * that PDP. pgbench's select-only workload then runs three ways with the same clients: straight
 * to PostgreSQL, through pgbouncer, through the PEP (every statement decided and audited). CPU
 * seconds of every process per transaction say where the PEP's time goes.
 *
 * Two diagnostic runs follow with pgbench's prepared mode (-M prepared), through pgbouncer and
 * through the PEP: the PEP decides a statement once, at Parse, and every execution after that is
 * relayed and recorded without a decision, which separates the cost of the per-statement decision
 * from the cost of the proxy and its session records.
 *
 * With --pin-pdp, a last pair of runs (pgbouncer, PEP) pins the PDP to one core and everything
 * else (PostgreSQL, pgbouncer, the PEP, pgbench) to the other: the closest two cores come to the
 * deployed shape, where the PDP runs on hosts of its own.
 *
 *   npm run bench:pep-postgres [-- --seconds 30] [--rounds 1] [--scale 10] [--skip-prepared] [--pin-pdp] [--baseline DIR]
 *
 * --baseline DIR (a built checkout of this repository, say main's) also starts that checkout's PEP
 * beside this one, on the same PDP and PostgreSQL, and measures it as one more way in every round
 * (before this PEP in even rounds): an A/B of two PEP builds under the same load, paired in time.
 *
 * BENCH_PEP_NODE_OPTIONS / BENCH_PDP_NODE_OPTIONS hand node options to that process alone
 * (`--inspect=127.0.0.1:9230` to attach a profiler to it under the bench's load);
 * BENCH_CPU_PROF=<dir> profiles both (`--cpu-prof`) and prints each one's top frames by self time.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPOSITORY_ROOT } from '../test/support/repository-root.ts';
import { DevIssuer, devIssuerDirectory } from '@portcullis/pdp';
import { startTestPostgres, type TestPostgres } from '../test/support/postgres-server.ts';
import { writeBenchPolicyPack } from './lib/bench-policy-pack.ts';
import { startPdpProcess, type PdpProcess } from './lib/pdp-process.ts';
import { startPepPostgresProcess } from './lib/pep-postgres-process.ts';
import { runPgbenchSelectOnly, type PgbenchLoad, type PgbenchResult, type PgbenchTarget } from './lib/pgbench-run.ts';
import { pgbouncerVersion, startPgbouncer } from './lib/pgbouncer-process.ts';
import { machineBusyCpuSeconds, mainThreadCpuSeconds, processTreeCpuSeconds, reapedChildrenCpuSeconds } from './lib/process-cpu.ts';
import type { Service } from './lib/processes.ts';
import { sampleDelta, scrapeLabelledSamples } from './lib/prometheus-samples.ts';
import { decisionTimeBreakdownUs } from './lib/decision-time-breakdown.ts';
import { framesTable, profilesIn } from './lib/cpu-profile-summary.ts';
import { pinTreeToCore } from './lib/cpu-affinity.ts';
import { jsonlStreamBytes } from './lib/audit-bytes.ts';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '30' },
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '1' },
    scale: { type: 'string', default: '10' },
    'skip-prepared': { type: 'boolean', default: false },
    'pin-pdp': { type: 'boolean', default: process.env.BENCH_PIN_PDP === '1' },
    baseline: { type: 'string' },
  },
});
const SECONDS = positiveInteger('--seconds', flags.seconds!);
const ROUNDS = positiveInteger('--rounds', flags.rounds!);
const SCALE = positiveInteger('--scale', flags.scale!);
// Read once: pinning (--pin-pdp) narrows what this process itself is allowed to run on.
const CORES = availableParallelism();
const CLIENTS = 8;
const THREADS = 2;
const WARM_UP_SECONDS = Math.min(5, SECONDS);
const RESOURCE = { name: 'bench-db', type: 'postgres', environment: 'production' } as const;
const DATABASE = 'bench';
const DB_USER = 'bench';
const AGENT = { sub: 'agent-bench', roles: ['reader'], kind: 'agent' as const };
// The statement pgbench -S sends, with one of its keys: the preflight asks the PDP about it.
const SAMPLE_STATEMENT = 'SELECT abalance FROM pgbench_accounts WHERE aid = 4242;';

const say = (message: string): void => console.error(`[bench:pep-postgres] ${message}`);

type Endpoint = 'direct' | 'pgbouncer' | 'pep' | 'pep_baseline';
type QueryMode = PgbenchLoad['queryMode'];
/** The measured ways, in run order: the first three are the comparison, the prepared pair a diagnostic. */
const WAYS = {
  direct: { label: 'PostgreSQL, direct', endpoint: 'direct', mode: 'simple' },
  pgbouncer: { label: 'pgbouncer (session pooling)', endpoint: 'pgbouncer', mode: 'simple' },
  pep: { label: 'Portcullis PEP (decide + audit)', endpoint: 'pep', mode: 'simple' },
  pgbouncer_prepared: { label: 'pgbouncer, -M prepared', endpoint: 'pgbouncer', mode: 'prepared' },
  pep_prepared: { label: 'PEP, -M prepared (decided at Parse)', endpoint: 'pep', mode: 'prepared' },
  pep_baseline: { label: 'baseline checkout\'s PEP (--baseline)', endpoint: 'pep_baseline', mode: 'simple' },
} as const satisfies Record<string, { label: string; endpoint: Endpoint; mode: QueryMode }>;
type WayName = keyof typeof WAYS;
// A built checkout whose PEP is measured beside this one (--baseline).
const BASELINE_ROOT = flags.baseline;
const MEASURED: WayName[] = [
  'direct', 'pgbouncer', 'pep',
  ...(BASELINE_ROOT ? ['pep_baseline' as const] : []),
  ...(flags['skip-prepared'] ? [] : ['pgbouncer_prepared' as const, 'pep_prepared' as const]),
];
/** The ways measured again with the PDP on a core of its own (--pin-pdp). */
const PINNED: WayName[] = flags['pin-pdp'] ? ['pgbouncer', 'pep'] : [];
const PIN_PDP = flags['pin-pdp'] === true;
// BENCH_CPU_PROF=<dir>: the PEP and the PDP write V8 CPU profiles there (pep/, pdp/) when they exit.
const PROFILE_DIR = process.env.BENCH_CPU_PROF;
const profileFlags = (name: string): string => (PROFILE_DIR ? ` --cpu-prof --cpu-prof-dir=${join(PROFILE_DIR, name)}` : '');

/** The processes whose CPU is accounted in every run (a process idle in a run shows ~0). */
interface Accounted {
  readonly postgres: number;
  readonly pgbouncer: number;
  readonly pep: number;
  readonly pdp: number;
  /** The baseline checkout's PEP (--baseline; 0 without one). */
  readonly pep_baseline: number;
}

interface CpuSnapshot {
  readonly processes: Record<keyof Accounted, number>;
  readonly pepMainThread: number;
  readonly pepBaselineMainThread: number;
  readonly pdpMainThread: number;
  readonly pgbench: number;
  readonly machine: number;
  readonly at: number;
}

interface TargetRun {
  readonly pgbench: PgbenchResult;
  /** CPU microseconds per transaction, by process. */
  readonly cpuPerTransactionUs: Record<string, number>;
  /** Cores kept busy on average during the run, by process. */
  readonly coresBusy: Record<string, number>;
  /** Seconds after pgbench ended until the last audit record of the run was stored. */
  readonly auditLagSeconds: number;
  readonly pdp: PdpActivity;
  /** Bytes the run added to the JSONL audit files, by stream (undefined with Kafka). */
  readonly auditBytes: { readonly sessions: number; readonly decisions: number } | undefined;
}

interface PdpActivity {
  readonly decisions: number;
  readonly sessionEventPosts: number;
  /** The PDP's answers to those POSTs by HTTP status: anything but 202 means records resent or refused. */
  readonly sessionEventPostStatuses: Record<string, number>;
  readonly auditRecordsStored: number;
  /** Statements the PEP reported that reached the audit trail (a grouped record holds several). */
  readonly statementsRecorded: number;
  /** Events the PDP's audit sink could not take (decisions denied, session batches refused). */
  readonly auditRejected: number;
  readonly decisionBreakdownUs: Record<string, number>;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-pep-'));
  // pgbouncer drops to the postgres user when run as root: it must reach its folder inside.
  chmodSync(work, 0o711);
  const services: Service[] = [];
  let postgres: TestPostgres | undefined;
  const cleanUp = async (): Promise<void> => {
    await Promise.all(services.splice(0).reverse().map((service) => service.stop().catch(() => undefined)));
    await postgres?.stop().catch(() => undefined);
    postgres = undefined;
    rmSync(work, { recursive: true, force: true });
  };
  // Ctrl-C still stops every server this run started.
  const interrupted = (signal: NodeJS.Signals): void => {
    say(`${signal}: stopping everything…`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    say(`starting PostgreSQL and initialising pgbench tables (scale ${SCALE})…`);
    const dbPassword = randomBytes(16).toString('hex');
    postgres = await startTestPostgres({ seed: `CREATE ROLE ${DB_USER} LOGIN PASSWORD '${dbPassword}';` });
    await postgres.sql(`CREATE DATABASE ${DATABASE} OWNER ${DB_USER}`);
    const pgbench = join(postgres.binDir, 'pgbench');
    execFileSync(pgbench, ['-i', '-q', '-s', String(SCALE), '-h', '127.0.0.1', '-p', String(postgres.port), '-U', DB_USER, DATABASE], {
      env: { PATH: process.env.PATH, PGPASSWORD: dbPassword }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 15 * 60_000,
    });
    const postmasterPid = Number(readFileSync(join(postgres.dataDir, 'data/postmaster.pid'), 'utf8').split('\n')[0]);
    const postgresVersion = (await postgres.sql('SHOW server_version')).trim();
    const scramSecret = (await postgres.sql(`SELECT rolpassword FROM pg_authid WHERE rolname = '${DB_USER}'`)).trim();
    if (!scramSecret.startsWith('SCRAM-SHA-256$')) throw new Error('the bench user has no SCRAM verifier');

    say('starting pgbouncer (session pooling, scram-sha-256)…');
    const pgbouncer = await startPgbouncer({
      dir: join(work, 'pgbouncer'), upstreamPort: postgres.port, database: DATABASE, user: DB_USER, scramSecret, poolMode: 'session', poolSize: CLIENTS * 2,
    });
    services.push(pgbouncer);

    say('starting the PDP (starter pack + a bench-db resource, audit on)…');
    const stateDir = join(work, 'pdp-state');
    mkdirSync(stateDir);
    const policyDir = writeBenchPolicyPack(join(work, 'policy'), RESOURCE);
    const issuer = new DevIssuer({ directory: devIssuerDirectory(stateDir) });
    const pepToken = await issuer.issue({ sub: 'pep-bench-db', roles: ['pep'], resources: [RESOURCE.name], ttlSeconds: 6 * 3600 });
    const agentToken = await issuer.issue({ ...AGENT, ttlSeconds: 6 * 3600 });
    const pdp = await startPdpProcess('pdp', {
      PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_POLICY_DIR: policyDir, PORTCULLIS_AUDIT_SINK: 'default',
    }, `${process.env.BENCH_PDP_NODE_OPTIONS ?? ''}${profileFlags('pdp')}`);
    services.push(pdp);
    // "jsonl:<dir>" or "kafka:<brokers>": the kind is what the report needs.
    const auditSinkName = (await auditHealth(pdp)).sink;
    const auditSink = auditSinkName.split(':')[0]!;
    const jsonlDir = auditSink === 'jsonl' ? auditSinkName.slice('jsonl:'.length) : undefined;
    const auditBytesNow = (): { sessions: number; decisions: number } | undefined =>
      jsonlDir === undefined ? undefined : { sessions: jsonlStreamBytes(jsonlDir, 'sessions'), decisions: jsonlStreamBytes(jsonlDir, 'decisions') };
    await preflight(pdp, pepToken, agentToken);

    say('starting the Postgres PEP…');
    const pep = await startPepPostgresProcess({
      pdpUrl: pdp.url, pepToken, resourceName: RESOURCE.name, resourceEnvironment: RESOURCE.environment,
      upstreamPort: postgres.port, upstreamDatabase: DATABASE, upstreamUser: DB_USER, upstreamPassword: dbPassword,
      nodeOptions: `${process.env.BENCH_PEP_NODE_OPTIONS ?? ''}${profileFlags('pep')}`,
    });
    services.push(pep);
    const baselinePep = BASELINE_ROOT
      ? await startPepPostgresProcess({
        pdpUrl: pdp.url, pepToken, resourceName: RESOURCE.name, resourceEnvironment: RESOURCE.environment,
        upstreamPort: postgres.port, upstreamDatabase: DATABASE, upstreamUser: DB_USER, upstreamPassword: dbPassword,
        nodeOptions: process.env.BENCH_PEP_NODE_OPTIONS ?? '', repositoryRoot: BASELINE_ROOT,
      })
      : undefined;
    if (baselinePep) services.push(baselinePep);
    // The PEP reports trouble (session records not shipped, refused connects, errors) on stderr:
    // keep it for the report, without the routine notices of sessions opening.
    const pepProblems: string[] = [];
    let pepPartial = '';
    pep.process.stderr?.on('data', (chunk: Buffer) => {
      const lines = (pepPartial + chunk.toString()).split('\n');
      pepPartial = lines.pop()!;
      for (const line of lines) if (line.trim() !== '' && !/listening on|: opened for /.test(line) && pepProblems.length < 1000) pepProblems.push(line.trim());
    });

    const endpoints: Record<Endpoint, PgbenchTarget> = {
      direct: { port: postgres.port, user: DB_USER, database: DATABASE, password: dbPassword },
      pgbouncer: { port: pgbouncer.port, user: DB_USER, database: DATABASE, password: dbPassword },
      // The PEP's callers log in with their OIDC token as the password and its subject as the user name.
      pep: { port: pep.port, user: AGENT.sub, database: DATABASE, password: agentToken },
      pep_baseline: { port: baselinePep?.port ?? 0, user: AGENT.sub, database: DATABASE, password: agentToken },
    };
    const pids = { postgres: postmasterPid, pgbouncer: pgbouncer.process.pid!, pep: pep.process.pid!, pdp: pdp.process.pid!, pepBaseline: baselinePep?.process.pid };
    const snapshot = (): CpuSnapshot => ({
      processes: {
        postgres: processTreeCpuSeconds(pids.postgres),
        pgbouncer: processTreeCpuSeconds(pids.pgbouncer),
        pep: processTreeCpuSeconds(pids.pep),
        pdp: processTreeCpuSeconds(pids.pdp),
        pep_baseline: pids.pepBaseline === undefined ? 0 : processTreeCpuSeconds(pids.pepBaseline),
      },
      pepMainThread: mainThreadCpuSeconds(pids.pep),
      pepBaselineMainThread: pids.pepBaseline === undefined ? 0 : mainThreadCpuSeconds(pids.pepBaseline),
      pdpMainThread: mainThreadCpuSeconds(pids.pdp),
      pgbench: reapedChildrenCpuSeconds(),
      machine: machineBusyCpuSeconds(),
      at: performance.now(),
    });

    // Page cache, JIT and connection pools warm for every way alike before anything counts.
    for (const name of MEASURED) {
      say(`warm-up, ${WARM_UP_SECONDS} s: ${WAYS[name].label}…`);
      await runPgbenchSelectOnly(pgbench, endpoints[WAYS[name].endpoint], load(WARM_UP_SECONDS, 0, WAYS[name].mode), () => undefined);
    }

    const measure = async (name: WayName, heading: string): Promise<TargetRun> => {
      const way = WAYS[name];
      say(`${heading}: pgbench -S -M ${way.mode} -c ${CLIENTS} -j ${THREADS} -T ${SECONDS}, ${way.label}…`);
      const metricsBefore = await scrapeLabelledSamples(pdp.url);
      const bytesBefore = auditBytesNow();
      const before = snapshot();
      const result = await runPgbenchSelectOnly(pgbench, endpoints[way.endpoint], load(SECONDS, Math.min(5, SECONDS), way.mode), (line) => say(`  ${line}`));
      const after = snapshot();
      // The PEP ships session records in batches after the fact: count them once they have landed,
      // and charge the work of landing them to the run.
      const auditLagSeconds = await settleAudit(pdp);
      const settled = snapshot();
      const metricsAfter = await scrapeLabelledSamples(pdp.url);
      const bytesAfter = auditBytesNow();
      const auditBytes = bytesBefore && bytesAfter ? { sessions: bytesAfter.sessions - bytesBefore.sessions, decisions: bytesAfter.decisions - bytesBefore.decisions } : undefined;
      if (result.failedTransactions > 0) throw new Error(`${result.failedTransactions} transactions failed through ${name}: the run measures failures`);
      say(`  ${name}: ${result.tps.toFixed(0)} tps, ${result.latencyAverageMs.toFixed(3)} ms average latency`);
      return { ...accountRun(result, before, after, settled, auditLagSeconds, pdpActivity(metricsBefore, metricsAfter)), auditBytes };
    };
    const runs = Object.fromEntries(MEASURED.map((name) => [name, [] as TargetRun[]])) as Partial<Record<WayName, TargetRun[]>>;
    for (let round = 1; round <= ROUNDS; round += 1) {
      // The two PEPs take turns going first, so neither always runs on the warmer machine.
      const order = round % 2 === 0 && BASELINE_ROOT ? MEASURED.map((name) => (name === 'pep' ? 'pep_baseline' : name === 'pep_baseline' ? 'pep' : name)) : MEASURED;
      for (const name of order) runs[name]!.push(await measure(name, `round ${round}/${ROUNDS}`));
    }
    // Last, as pinning is not undone: the PDP on the last core, every other process (pgbench
    // through this one, its parent) on the first.
    const pinnedRuns: Partial<Record<WayName, TargetRun>> = {};
    if (PIN_PDP) {
      const pdpCore = CORES - 1;
      if (pdpCore < 1) throw new Error('--pin-pdp needs at least two cores');
      pinTreeToCore(pids.pdp, pdpCore);
      for (const pid of [pids.postgres, pids.pgbouncer, pids.pep, process.pid]) pinTreeToCore(pid, 0);
      say(`pinned: the PDP to core ${pdpCore}, PostgreSQL, pgbouncer, the PEP and pgbench to core 0`);
      for (const name of PINNED) {
        // Connections, caches and the scheduler settle on the new cores before anything counts.
        await runPgbenchSelectOnly(pgbench, endpoints[WAYS[name].endpoint], load(WARM_UP_SECONDS, 0, WAYS[name].mode), () => undefined);
        pinnedRuns[name] = await measure(name, 'pinned');
      }
    }

    const chosen = Object.fromEntries(MEASURED.map((name) => [name, medianByTps(runs[name]!)])) as Partial<Record<WayName, TargetRun>> & Record<'direct' | 'pgbouncer' | 'pep', TargetRun>;
    const result = {
      date: new Date().toISOString(),
      machine: { cores: CORES, node: process.version, postgres: postgresVersion, pgbouncer: pgbouncerVersion() },
      load: {
        generator: 'pgbench', script: 'select-only (-S)', query_mode: 'simple (prepared for the *_prepared diagnostics)', clients: CLIENTS, threads: THREADS,
        seconds: SECONDS, warm_up_seconds: WARM_UP_SECONDS, rounds: ROUNDS, scale: SCALE,
      },
      pgbouncer_pool_mode: 'session',
      audit_sink: auditSink,
      pdp_policy_workers: process.env.PORTCULLIS_POLICY_WORKERS ?? 'default (cores − 1)',
      resource: RESOURCE,
      targets: Object.fromEntries(Object.entries(chosen).map(([name, run]) => [name, describeRun(run)])),
      ratio_pep_to_pgbouncer: chosen.pep.pgbench.tps / chosen.pgbouncer.pgbench.tps,
      ratio_pep_to_direct: chosen.pep.pgbench.tps / chosen.direct.pgbench.tps,
      ratio_pgbouncer_to_direct: chosen.pgbouncer.pgbench.tps / chosen.direct.pgbench.tps,
      pep_added_latency_ms: chosen.pep.pgbench.latencyAverageMs - chosen.direct.pgbench.latencyAverageMs,
      ratio_pep_baseline_to_pgbouncer: chosen.pep_baseline ? chosen.pep_baseline.pgbench.tps / chosen.pgbouncer.pgbench.tps : null,
      baseline_checkout: BASELINE_ROOT ?? null,
      ratio_pep_prepared_to_pgbouncer_prepared: chosen.pep_prepared && chosen.pgbouncer_prepared ? chosen.pep_prepared.pgbench.tps / chosen.pgbouncer_prepared.pgbench.tps : null,
      pep_path: { simple: decisionPath(chosen.pep), prepared: chosen.pep_prepared ? decisionPath(chosen.pep_prepared) : null },
      pinned_pdp: pinnedRuns.pep && pinnedRuns.pgbouncer
        ? {
          shape: `PDP on core ${CORES - 1}; PostgreSQL, pgbouncer, the PEP and pgbench on core 0`,
          ratio_pep_to_pgbouncer: pinnedRuns.pep.pgbench.tps / pinnedRuns.pgbouncer.pgbench.tps,
          pgbouncer: describeRun(pinnedRuns.pgbouncer),
          pep: describeRun(pinnedRuns.pep),
        }
        : null,
      pep_problems: { count: pepProblems.length, first: pepProblems.slice(0, 20) },
      all_rounds: Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, list.map(describeRun)])),
    };
    mkdirSync(join(REPOSITORY_ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(REPOSITORY_ROOT, 'bench/results/pep-postgres.json'), `${JSON.stringify(result, null, 2)}\n`);
    printReport(chosen, result, pinnedRuns);
    if (pepProblems.length > 0) {
      console.log(`\nthe PEP reported ${pepProblems.length} problem(s) during the run; the first:\n  ${pepProblems.slice(0, 5).join('\n  ')}`);
    }
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await cleanUp();
  }
  // The profiles are written as the processes exit, which cleanUp waited for.
  if (PROFILE_DIR) {
    for (const name of ['pep', 'pdp']) {
      for (const path of profilesIn(join(PROFILE_DIR, name))) {
        // One profile per thread (main, audit, policy workers); threads that were nearly idle are left out.
        const table = framesTable(`${name.toUpperCase()}, top frames by self time`, path, 15, 0.02);
        if (table) console.log(`\n${table}`);
      }
    }
  }
}

function load(seconds: number, progressSeconds: number, queryMode: QueryMode): PgbenchLoad {
  return { clients: CLIENTS, threads: THREADS, seconds, progressSeconds, queryMode };
}

/** Fails early, with the policy's reasons, unless the PDP allows the workload's statement. */
async function preflight(pdp: PdpProcess, pepToken: string, agentToken: string): Promise<void> {
  const response = await fetch(`${pdp.url}/v1/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${pepToken}` },
    body: JSON.stringify({ subject_token: agentToken, resource: RESOURCE, action: { type: 'sql', sql: SAMPLE_STATEMENT } }),
  });
  const answer = (await response.json()) as { effect?: string; reasons?: unknown };
  if (!response.ok || answer.effect !== 'allow') {
    throw new Error(`the PDP does not allow the pgbench statement for ${AGENT.sub} on ${RESOURCE.name}: ${response.status} ${JSON.stringify(answer)}`);
  }
}

interface AuditHealth {
  readonly sink: string;
  readonly queued: number;
  readonly written: number;
  readonly details?: { spool_bytes?: number };
}

async function auditHealth(pdp: PdpProcess): Promise<AuditHealth> {
  return ((await (await fetch(`${pdp.url}/health`)).json()) as { audit: AuditHealth }).audit;
}

/**
 * Waits (bounded) until the records of the run have all landed: the PEP ships session records
 * in batches (a lone one after 500 ms), and the PDP's sink writes them off its hot path, one
 * fsync'd batch at a time. Settled is: nothing queued in the sink and no new record stored for
 * two seconds. Resolves to the seconds until the last record was stored.
 */
async function settleAudit(pdp: PdpProcess): Promise<number> {
  const started = Date.now();
  const deadline = started + 120_000;
  let last = -1;
  let lastChange = started;
  while (Date.now() < deadline) {
    const audit = await auditHealth(pdp);
    if (audit.written !== last) {
      last = audit.written;
      lastChange = Date.now();
    } else if (audit.queued === 0 && (audit.details?.spool_bytes ?? 0) === 0 && Date.now() - lastChange >= 2000) {
      return (lastChange - started) / 1000;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  say('  audit records were still arriving 120 s after the run; counting what was stored by then');
  return (Date.now() - started) / 1000;
}

function pdpActivity(before: Map<string, number>, after: Map<string, number>): PdpActivity {
  const decisions = sampleDelta(before, after, 'portcullis_decisions_total');
  return {
    decisions,
    sessionEventPosts: sampleDelta(before, after, 'portcullis_http_requests_total', '/v1/sessions/events'),
    sessionEventPostStatuses: statusCounts(before, after, '/v1/sessions/events'),
    auditRecordsStored: sampleDelta(before, after, 'portcullis_audit_records_stored_total'),
    statementsRecorded: sampleDelta(before, after, 'portcullis_session_events_recorded_total', 'event="session.statement"'),
    auditRejected: sampleDelta(before, after, 'portcullis_audit_events_rejected_total'),
    decisionBreakdownUs: decisionTimeBreakdownUs((sample) => sampleDelta(before, after, sample)),
  };
}

/** Requests to one route between two scrapes, by HTTP status. */
function statusCounts(before: Map<string, number>, after: Map<string, number>, route: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of after.keys()) {
    const status = /status="(\d+)"/.exec(key)?.[1];
    if (!status || !key.startsWith('portcullis_http_requests_total') || !key.includes(`"${route}"`)) continue;
    const delta = sampleDelta(before, after, key);
    if (delta > 0) counts[status] = delta;
  }
  return counts;
}

/**
 * CPU per transaction counts from the run's start until its audit records had all landed (work
 * the run caused); cores busy are over the run alone (what ran side by side).
 */
function accountRun(pgbench: PgbenchResult, before: CpuSnapshot, after: CpuSnapshot, settled: CpuSnapshot, auditLagSeconds: number, pdp: PdpActivity): Omit<TargetRun, 'auditBytes'> {
  const perTransaction: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(cpuUsed(before, settled))) perTransaction[name] = (seconds / pgbench.transactions) * 1e6;
  const wallSeconds = (after.at - before.at) / 1000;
  const cores: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(cpuUsed(before, after))) cores[name] = seconds / wallSeconds;
  return { pgbench, cpuPerTransactionUs: perTransaction, coresBusy: cores, auditLagSeconds, pdp };
}

/** CPU seconds used between two snapshots, by process, plus the machine's total and what no process accounted for. */
function cpuUsed(from: CpuSnapshot, to: CpuSnapshot): Record<string, number> {
  const used: Record<string, number> = {};
  for (const name of Object.keys(from.processes) as (keyof Accounted)[]) used[name] = to.processes[name] - from.processes[name];
  used.pep_main_thread = to.pepMainThread - from.pepMainThread;
  used.pep_baseline_main_thread = to.pepBaselineMainThread - from.pepBaselineMainThread;
  used.pdp_main_thread = to.pdpMainThread - from.pdpMainThread;
  used.pgbench = to.pgbench - from.pgbench;
  const accounted = used.postgres! + used.pgbouncer! + used.pep! + used.pep_baseline! + used.pdp! + used.pgbench!;
  used.machine_total = to.machine - from.machine;
  // The rest of the machine's busy time: other processes on the shared machine (noise) and
  // kernel time no process is charged for (loopback networking in softirq).
  used.unattributed = Math.max(0, used.machine_total - accounted);
  return used;
}

/** What one transaction through the PEP asked of the PDP. */
function decisionPath(run: TargetRun) {
  const transactions = run.pgbench.transactions;
  return {
    decisions_per_transaction: run.pdp.decisions / transactions,
    session_event_posts_per_transaction: run.pdp.sessionEventPosts / transactions,
    audit_records_per_transaction: run.pdp.auditRecordsStored / transactions,
    // Every record that is not a decision's is a session record (start and end are a handful);
    // a run of one session's statements shipped together is one record.
    session_records_per_transaction: (run.pdp.auditRecordsStored - run.pdp.decisions) / transactions,
    statements_recorded_per_transaction: run.pdp.statementsRecorded / transactions,
    // On disk (JSONL); null with Kafka, whose topic bytes the audit bench reports.
    session_bytes_per_recorded_statement: run.auditBytes && run.pdp.statementsRecorded > 0 ? run.auditBytes.sessions / run.pdp.statementsRecorded : null,
    pdp_decision_breakdown_us: round(run.pdp.decisionBreakdownUs, 1),
  };
}

function describeRun(run: TargetRun) {
  return {
    tps: run.pgbench.tps,
    latency_average_ms: run.pgbench.latencyAverageMs,
    transactions: run.pgbench.transactions,
    failed_transactions: run.pgbench.failedTransactions,
    initial_connection_ms: run.pgbench.initialConnectionMs,
    audit_lag_seconds_after_run: Math.round(run.auditLagSeconds * 10) / 10,
    cpu_us_per_transaction: round(run.cpuPerTransactionUs, 1),
    cores_busy: round(run.coresBusy, 3),
    pdp_decisions: run.pdp.decisions,
    pdp_session_event_posts: run.pdp.sessionEventPosts,
    pdp_session_event_post_statuses: run.pdp.sessionEventPostStatuses,
    pdp_audit_rejected: run.pdp.auditRejected,
    pdp_audit_records_stored: run.pdp.auditRecordsStored,
  };
}

function medianByTps(runs: TargetRun[]): TargetRun {
  const sorted = [...runs].sort((a, b) => a.pgbench.tps - b.pgbench.tps);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

interface Ratios {
  readonly ratio_pep_to_pgbouncer: number;
  readonly ratio_pep_to_direct: number;
  readonly ratio_pgbouncer_to_direct: number;
  readonly ratio_pep_prepared_to_pgbouncer_prepared: number | null;
  readonly ratio_pep_baseline_to_pgbouncer: number | null;
  readonly pep_added_latency_ms: number;
  readonly audit_sink: string;
}

function printReport(chosen: Partial<Record<WayName, TargetRun>> & Record<'pep', TargetRun>, result: Ratios, pinned: Partial<Record<WayName, TargetRun>>): void {
  const columns = ['postgres', 'pgbouncer', 'pep', 'pdp', 'pgbench', 'unattributed', 'machine_total'] as const;
  const heading = (column: string): string => column.replace('unattributed', 'other').replace('machine_total', 'machine');
  console.log(`\nPostgres PEP — pgbench -S, ${CLIENTS} clients, ${THREADS} threads, ${SECONDS} s × ${ROUNDS} round(s) (median), scale ${SCALE}, ${CORES} cores, audit ${result.audit_sink}`);
  console.log(`${''.padEnd(53)} │ CPU µs per transaction`);
  console.log(`${'way'.padEnd(36)} ${'tps'.padStart(7)} ${'lat ms'.padStart(8)} │ ${columns.map((c) => heading(c).padStart(9)).join(' ')}`);
  for (const name of MEASURED) {
    const run = chosen[name]!;
    // The baseline PEP's CPU shows in the PEP column of its own way.
    const cpu = (column: string): number => (column === 'pep' && name === 'pep_baseline' ? run.cpuPerTransactionUs.pep_baseline : run.cpuPerTransactionUs[column]) ?? 0;
    const cells = columns.map((c) => cpu(c).toFixed(0).padStart(9)).join(' ');
    console.log(`${WAYS[name].label.padEnd(36)} ${run.pgbench.tps.toFixed(0).padStart(7)} ${run.pgbench.latencyAverageMs.toFixed(3).padStart(8)} │ ${cells}`);
  }
  for (const name of PINNED) {
    const run = pinned[name];
    if (!run) continue;
    const cells = columns.map((c) => (run.cpuPerTransactionUs[c] ?? 0).toFixed(0).padStart(9)).join(' ');
    console.log(`${`${WAYS[name].label}, PDP pinned apart`.slice(0, 36).padEnd(36)} ${run.pgbench.tps.toFixed(0).padStart(7)} ${run.pgbench.latencyAverageMs.toFixed(3).padStart(8)} │ ${cells}`);
  }
  console.log(`\nratio PEP / pgbouncer: ${result.ratio_pep_to_pgbouncer.toFixed(3)}  (target ≥ 0.5)`);
  if (pinned.pep && pinned.pgbouncer) {
    console.log(`ratio PEP / pgbouncer, PDP on its own core, the rest on the other (deployed shape): ${(pinned.pep.pgbench.tps / pinned.pgbouncer.pgbench.tps).toFixed(3)}`);
  }
  if (result.ratio_pep_baseline_to_pgbouncer !== null) {
    const pep = chosen.pep.cpuPerTransactionUs;
    const baseline = chosen.pep_baseline!.cpuPerTransactionUs;
    console.log(`baseline checkout's PEP / pgbouncer: ${result.ratio_pep_baseline_to_pgbouncer.toFixed(3)}; CPU µs per transaction, this PEP against the baseline's: PEP ${pep.pep!.toFixed(1)} vs ${baseline.pep_baseline!.toFixed(1)} (event loop ${pep.pep_main_thread!.toFixed(1)} vs ${baseline.pep_baseline_main_thread!.toFixed(1)}), PostgreSQL ${pep.postgres!.toFixed(1)} vs ${baseline.postgres!.toFixed(1)}, PDP ${pep.pdp!.toFixed(1)} vs ${baseline.pdp!.toFixed(1)}`);
  }
  console.log(`ratio PEP / direct:    ${result.ratio_pep_to_direct.toFixed(3)}  (pgbouncer / direct: ${result.ratio_pgbouncer_to_direct.toFixed(2)})`);
  if (result.ratio_pep_prepared_to_pgbouncer_prepared !== null) {
    console.log(`ratio, -M prepared (decided once per Parse): PEP / pgbouncer ${result.ratio_pep_prepared_to_pgbouncer_prepared.toFixed(3)}`);
  }
  console.log(`latency the PEP adds:  ${result.pep_added_latency_ms.toFixed(3)} ms per transaction on average`);
  for (const name of ['pep', 'pep_prepared'] as const) {
    const run = chosen[name];
    if (!run) continue;
    const transactions = run.pgbench.transactions;
    const perTx = run.cpuPerTransactionUs;
    const sessionRecords = (run.pdp.auditRecordsStored - run.pdp.decisions) / transactions;
    const statementsRecorded = run.pdp.statementsRecorded / transactions;
    console.log(`\n${WAYS[name].label}, per transaction: ${(run.pdp.decisions / transactions).toFixed(3)} PDP decisions, ${statementsRecorded.toFixed(2)} statements on the record in ${(run.pdp.auditRecordsStored / transactions).toFixed(3)} audit records (${sessionRecords.toFixed(3)} session records), ${(run.pdp.sessionEventPosts / transactions).toFixed(3)} session-event POSTs`);
    if (run.auditBytes && run.pdp.statementsRecorded > 0) {
      console.log(`  on disk (JSONL): ${(run.auditBytes.sessions / run.pdp.statementsRecorded).toFixed(0)} bytes of session records per recorded statement, ${run.auditBytes.decisions} bytes of decision records in all`);
    }
    console.log(`  the run's last audit record was stored ${run.auditLagSeconds.toFixed(1)} s after pgbench ended (the PEP ships session records in batches; the sink stores each batch durably)`);
    const refused = Object.entries(run.pdp.sessionEventPostStatuses).filter(([status]) => status !== '202');
    if (refused.length > 0 || run.pdp.auditRejected > 0) {
      console.log(`  ! session-event POSTs not accepted: ${refused.map(([status, count]) => `${count} × ${status}`).join(', ') || 'none'}; audit events rejected by the sink: ${run.pdp.auditRejected}`);
    }
    if (statementsRecorded < 0.99) console.log(`  ! fewer statements on the record than transactions: ${((1 - statementsRecorded) * transactions).toFixed(0)} did not reach the audit trail`);
    console.log(`  PEP  ${perTx.pep!.toFixed(0)} µs CPU (event loop ${perTx.pep_main_thread!.toFixed(0)} µs: wire protocol, relaying, PDP client, session records)`);
    console.log(`  PDP  ${perTx.pdp!.toFixed(0)} µs CPU (main thread ${perTx.pdp_main_thread!.toFixed(0)} µs: HTTP, JSON, token, SQL parse; the rest: policy worker, audit thread, GC)`);
    if (run.pdp.decisions > 0) {
      console.log(`  PDP decision in core, mean µs: ${Object.entries(run.pdp.decisionBreakdownUs).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
    }
    const cores = run.coresBusy;
    console.log(`  cores busy: machine ${cores.machine_total!.toFixed(2)} of ${CORES} (PEP ${cores.pep!.toFixed(2)}, PDP ${cores.pdp!.toFixed(2)}, PostgreSQL ${cores.postgres!.toFixed(2)}, pgbench ${cores.pgbench!.toFixed(2)}, unattributed ${cores.unattributed!.toFixed(2)})`);
  }
  console.log(`\nresults: bench/results/pep-postgres.json`);
}

function round(values: Record<string, number>, digits: number): Record<string, number> {
  const factor = 10 ** digits;
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Math.round(v * factor) / factor]));
}

function positiveInteger(flag: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer (got "${raw}")`);
  return value;
}

main().catch((error: unknown) => {
  console.error(`[bench:pep-postgres] failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
