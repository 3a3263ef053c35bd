/**
 * npm run bench:pdp — the PDP against OPA's own server (`opa run --server`) on the same policy.
 *
 * Both get the same load generator (wrk), the same keep-alive connections and the same mix of
 * all four action types. OPA gets the input already enriched (it cannot parse SQL or shell), and
 * so does the PDP's Data API: that pair is the like-for-like ratio. The full /v1/decisions path
 * (token verification, parsing, evaluation, audit) is reported separately with where time goes,
 * and beside a second PDP evaluating a shadow candidate on every decision (shadow / no shadow).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../test/support/repository-root.ts';
import { buildPolicyInput } from '@portcullis/pdp';
import { ActionEnricher } from '@portcullis/pdp';
import { DECISION_MIX, MIX_SUBJECTS } from './lib/decision-mix.ts';
import { decisionTimeBreakdownUs } from './lib/decision-time-breakdown.ts';
import { prepareMix, scrapeMetrics, startPdpProcess } from './lib/pdp-process.ts';
import { freePort, startService, type Service } from './lib/processes.ts';
import { measureShadowRatio } from './lib/shadow-ratio.ts';
import { mainThreadCpuSeconds, processTreeCpuSeconds } from './lib/process-cpu.ts';
import { loadDescription, medianRun, runWrk, type WrkResult } from './lib/wrk.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
// Node options for the measured PDP alone, e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile it under this load.
const PDP_NODE_OPTIONS = process.env.BENCH_PDP_NODE_OPTIONS;
const components = join(REPOSITORY_ROOT, 'scripts/components.sh');
const say = (message: string): void => console.error(`[bench:pdp] ${message}`);

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const services: Service[] = [];
  try {
    say('preparing tools and bundles…');
    execFileSync('bash', [components, 'install', 'wrk'], { stdio: 'inherit' });
    const opa = execFileSync('bash', [components, 'path', 'opa'], { encoding: 'utf8' }).trim();
    execFileSync(process.execPath, [join(REPOSITORY_ROOT, 'policies/build.mjs')], { stdio: 'inherit' });
    const wasmBundle = join(REPOSITORY_ROOT, 'policies/build/bundle.tar.gz');
    const regoBundle = join(work, 'opa-bundle.tar.gz');
    execFileSync(opa, ['build', '-b', join(REPOSITORY_ROOT, 'policies'), '--ignore', '*_test.rego', '--ignore', 'build', '--ignore', 'test', '--ignore', 'tests', '-o', regoBundle], { stdio: 'inherit' });

    const stateDir = join(work, 'state');
    mkdirSync(stateDir, { recursive: true });
    const { issuer, tokens, pepToken, rawBodies } = await prepareMix(stateDir);

    // The exact input the PDP builds for each request, so OPA evaluates the same documents.
    const enricher = await ActionEnricher.create();
    const inputBodies: string[] = [];
    for (const { subject, request } of DECISION_MIX) {
      const full = { ...request, subject_token: tokens[subject] };
      const { sub, roles, kind } = MIX_SUBJECTS[subject];
      const verification = { ok: true as const, principal: { sub, roles, kind, iss: issuer.issuer, aud: [issuer.audience], claims: {} } };
      const input = buildPolicyInput(full, verification, { sub: 'pep-bench', roles: ['pep'], resources: { patterns: ['*'], fronts: () => true } }, await enricher.enrich(full.action));
      inputBodies.push(JSON.stringify({ input }));
    }

    const opaPort = await freePort();
    say(`starting OPA ${opaVersion(opa)} on :${opaPort} and the PDP…`);
    const opaService = await startService('opa', opa, ['run', '--server', '--addr', `127.0.0.1:${opaPort}`, '--log-level', 'error', '--disable-telemetry', '-b', regoBundle], process.env,
      async () => (await fetch(`http://127.0.0.1:${opaPort}/health?bundles`)).ok);
    services.push(opaService);
    const pdp = await startPdpProcess('pdp', { PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_BUNDLE_FILE: wasmBundle }, PDP_NODE_OPTIONS);
    services.push(pdp);

    const opaUrl = `http://127.0.0.1:${opaPort}/v1/data/portcullis/decision`;
    const pdpDataUrl = `${pdp.url}/v1/data/portcullis/decision`;
    const pdpDecisionsUrl = `${pdp.url}/v1/decisions`;
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${pepToken}` };

    say('checking that both answer every request of the mix identically…');
    const effects: string[] = [];
    for (const body of inputBodies) {
      const [fromOpa, fromPdp] = await Promise.all([post(opaUrl, body, headers), post(pdpDataUrl, body, headers)]);
      if (canonical(fromOpa.result) !== canonical(fromPdp.result)) {
        throw new Error(`OPA and the PDP disagree on ${body.slice(0, 200)}…\nOPA: ${JSON.stringify(fromOpa.result)}\nPDP: ${JSON.stringify(fromPdp.result)}`);
      }
      effects.push((fromPdp.result as { effect: string }).effect);
    }
    say(`identical on all ${inputBodies.length} inputs (effects: ${summarise(effects)})`);

    const wrk = (url: string, bodies: string[], name: string) =>
      runWrk({ url, bodies, headers, connections: CONNECTIONS, threads: 1, seconds: SECONDS, scriptPath: join(work, `${name}.lua`) });
    // CPU per request of the server under load (all its threads; the PDP's main thread apart): a
    // figure a loaded machine moves far less than throughput.
    const opaPid = opaService.process.pid!;
    const pdpPid = pdp.process.pid!;
    const withCpu = async (pid: number, run: () => Promise<WrkResult>): Promise<Measured> => {
      const [cpu, main] = [processTreeCpuSeconds(pid), mainThreadCpuSeconds(pid)];
      const result = await run();
      const requests = Math.max(1, result.requests);
      return { ...result, cpuUsPerRequest: ((processTreeCpuSeconds(pid) - cpu) * 1e6) / requests, mainThreadCpuUsPerRequest: ((mainThreadCpuSeconds(pid) - main) * 1e6) / requests };
    };
    say(`warming up…`);
    await wrk(opaUrl, inputBodies, 'warm-opa').catch(() => undefined);
    await wrk(pdpDataUrl, inputBodies, 'warm-pdp');
    // The full path's parsers are cold until their first use: each request once, then under load
    // (a cold process's stragglers may time out here; only the measured rounds must be clean).
    for (const body of rawBodies) await post(pdpDecisionsUrl, body, headers);
    await wrk(pdpDecisionsUrl, rawBodies, 'warm-full').catch(() => undefined);

    // Rounds alternate OPA, the Data API and the full path, so a machine whose load drifts weighs on all alike.
    const opaRuns: Measured[] = [];
    const pdpRuns: Measured[] = [];
    const fullRuns: Measured[] = [];
    // The full path's own metric deltas (the Data API observes some of the same histograms).
    const fullDeltas = new Map<string, number>();
    for (let round = 1; round <= ROUNDS; round += 1) {
      say(`round ${round}/${ROUNDS}: OPA…`);
      opaRuns.push(await withCpu(opaPid, () => wrk(opaUrl, inputBodies, 'opa')));
      say(`round ${round}/${ROUNDS}: PDP Data API…`);
      pdpRuns.push(await withCpu(pdpPid, () => wrk(pdpDataUrl, inputBodies, 'pdp')));
      say(`round ${round}/${ROUNDS}: PDP full /v1/decisions path…`);
      const before = await scrapeMetrics(pdp.url);
      fullRuns.push(await withCpu(pdpPid, () => wrk(pdpDecisionsUrl, rawBodies, 'full')));
      for (const [sample, value] of await scrapeMetrics(pdp.url)) fullDeltas.set(sample, (fullDeltas.get(sample) ?? 0) + value - (before.get(sample) ?? 0));
    }
    const full = medianRun(fullRuns);
    say('full /v1/decisions path, a new connection per request (why PEPs keep theirs open)…');
    const perRequest = await runWrk({
      url: pdpDecisionsUrl, bodies: rawBodies, headers: { ...headers, Connection: 'close' },
      connections: CONNECTIONS, threads: 1, seconds: Math.max(3, Math.round(SECONDS / 2)), scriptPath: join(work, 'close.lua'),
    });

    const shadow = await measureShadowRatio({
      work, stateDir, wasmBundle, opa, plain: pdp, rounds: ROUNDS, services, say, rawBodies, headers,
      wrk: (url, name) => wrk(url, rawBodies, name),
    });

    const opaBest = medianRun(opaRuns);
    const pdpBest = medianRun(pdpRuns);
    const cpu = {
      opa: median(opaRuns.map((run) => run.cpuUsPerRequest)),
      pdp_data_api: median(pdpRuns.map((run) => run.cpuUsPerRequest)),
      pdp_data_api_main_thread: median(pdpRuns.map((run) => run.mainThreadCpuUsPerRequest)),
      pdp_decisions: median(fullRuns.map((run) => run.cpuUsPerRequest)),
      pdp_decisions_main_thread: median(fullRuns.map((run) => run.mainThreadCpuUsPerRequest)),
    };
    const breakdown = decisionTimeBreakdownUs((sample) => fullDeltas.get(sample) ?? 0);
    const result = {
      date: new Date().toISOString(),
      machine: { cores: availableParallelism(), node: process.version },
      load: loadDescription(CONNECTIONS, SECONDS, ROUNDS, DECISION_MIX.length),
      opa: opaBest,
      pdp_data_api: pdpBest,
      pdp_decisions: full,
      pdp_decisions_connection_per_request: perRequest,
      ratio_throughput: pdpBest.requestsPerSecond / opaBest.requestsPerSecond,
      ratio_p99: pdpBest.p99Ms / opaBest.p99Ms,
      ratio_full_path_to_data_api: full.requestsPerSecond / pdpBest.requestsPerSecond,
      cpu_us_per_request: cpu,
      decisions_breakdown_us: breakdown,
      pdp_decisions_without_shadow: shadow.without,
      pdp_decisions_with_shadow: shadow.with,
      ratio_shadow_throughput: shadow.ratio,
      shadow_evaluations: shadow.shadow,
    };
    mkdirSync(join(REPOSITORY_ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(REPOSITORY_ROOT, 'bench/results/pdp-vs-opa.json'), `${JSON.stringify(result, null, 2)}\n`);

    const row = (name: string, r: WrkResult) =>
      `${name.padEnd(34)} ${r.requestsPerSecond.toFixed(0).padStart(9)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)} ${String(r.errors + r.non2xx).padStart(7)}`;
    console.log(`\nPDP vs OPA — ${DECISION_MIX.length}-request mix, wrk ${CONNECTIONS} connections, ${SECONDS}s × ${ROUNDS} rounds (median), ${availableParallelism()} cores`);
    console.log(`${'target'.padEnd(34)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}`);
    console.log(row(`OPA ${opaVersion(opa)} /v1/data`, opaBest));
    console.log(row('PDP /v1/data (same input)', pdpBest));
    console.log(row('PDP /v1/decisions (full path)', full));
    console.log(row('  … a new connection per request', perRequest));
    console.log(row('PDP /v1/decisions, no shadow', shadow.without));
    console.log(row('PDP /v1/decisions, shadow beside it', shadow.with));
    console.log(`\nratio PDP/OPA throughput: ${result.ratio_throughput.toFixed(2)}  (target ≥ 2.0)`);
    console.log(`ratio PDP/OPA p99:        ${result.ratio_p99.toFixed(2)}  (target ≤ 0.24, no worse than before)`);
    console.log(`ratio full path / Data API throughput: ${result.ratio_full_path_to_data_api.toFixed(2)}  (target ≥ 0.8)`);
    console.log(`CPU µs per request (all threads; main thread): OPA ${cpu.opa.toFixed(0)}; PDP Data API ${cpu.pdp_data_api.toFixed(0)}; ${cpu.pdp_data_api_main_thread.toFixed(0)}; PDP full path ${cpu.pdp_decisions.toFixed(0)}; ${cpu.pdp_decisions_main_thread.toFixed(0)}  (OPA/PDP Data API ${(cpu.opa / cpu.pdp_data_api).toFixed(2)})`);
    console.log(`ratio shadow/no shadow throughput: ${shadow.ratio.toFixed(2)}  (target ≥ 0.9; rounds alternate)`);
    const { same, different, failed, dropped, recorded } = shadow.shadow;
    console.log(`shadow during its rounds: ${same + different} evaluated (${different} different, ${recorded} recorded on the shadow stream), ${failed} failed, ${dropped} not evaluated`);
    console.log(`keep-alive vs a connection per request: ${(full.requestsPerSecond / perRequest.requestsPerSecond).toFixed(2)}× the throughput`);
    console.log(`full path, mean per decision (µs): ${Object.entries(breakdown).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
  } finally {
    await Promise.all(services.map((service) => service.stop()));
    rmSync(work, { recursive: true, force: true });
  }
}

interface Measured extends WrkResult {
  readonly cpuUsPerRequest: number;
  readonly mainThreadCpuUsPerRequest: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ result?: unknown }> {
  const response = await fetch(url, { method: 'POST', body, headers });
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { result?: unknown };
}

/** JSON with object keys sorted: OPA and the WASM SDK order keys differently. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function opaVersion(opa: string): string {
  return /Version: (\S+)/.exec(execFileSync(opa, ['version'], { encoding: 'utf8' }))?.[1] ?? '?';
}

function summarise(effects: string[]): string {
  const counts = new Map<string, number>();
  for (const effect of effects) counts.set(effect, (counts.get(effect) ?? 0) + 1);
  return [...counts].map(([effect, count]) => `${effect} ${count}`).join(', ');
}

main().catch((error: unknown) => {
  console.error(`[bench:pdp] failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
