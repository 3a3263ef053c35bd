// The Kubernetes PEP against the kube-apiserver it fronts, on the same client and load, in one run:
//  - GET of one ConfigMap, and LIST of a namespace's ConfigMaps (wrk over keep-alive TLS);
//  - LIST of a namespace's Secrets, which policy masks through the PEP (every value hidden);
//  - watch events per second: watches of the namespace's ConfigMaps while a writer (straight to
//    the API server, the same load both times) keeps updating them.
// Each is reported as PEP / direct. The PDP decides every request through the starter pack with its
// audit trail on; the PEP uses its own credential (impersonation off, the default).
//
//   npm run bench:pep-kubernetes [-- --seconds 10 --connections 8 --watches 8 --ways get,list,list-secrets,watch --rounds 1]
// --rounds N alternates direct and PEP N times per way (medians reported, the ratio's range with them).
// The direct baseline is the administrator, whom RBAC does not check (`system:masters`); GET and
// LIST also run straight at the API server with the PEP's own credential, which RBAC checks as it
// checks any client without that group: the PEP against a direct client of the same standing.
// Before its rounds every wrk way runs untimed against both (`--warmup`, 3 s), so the rounds
// compare warm processes: a fresh PEP spends its first seconds compiling its hot code.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:https';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DevIssuer, devIssuerDirectory } from '@portcullis/pdp';
import { startTestKubeApiServer, type TestKubeApiServer } from '../test/support/kube-apiserver.ts';
import { REPOSITORY_ROOT } from '../test/support/repository-root.ts';
import { createTestCa, issueCertificate } from '../test/support/test-certificates.ts';
import { writeBenchPolicyPack } from './lib/bench-policy-pack.ts';
import { startPdpProcess } from './lib/pdp-process.ts';
import { processTreeCpuSeconds } from './lib/process-cpu.ts';
import { freePort, nodeFlags, startService, type Service } from './lib/processes.ts';
import { acceptsConnections } from './lib/tcp-probe.ts';
import { runWrk, type WrkResult } from './lib/wrk.ts';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '10' },
    connections: { type: 'string', default: '8' },
    watches: { type: 'string', default: '8' },
    objects: { type: 'string', default: '50' },
    ways: { type: 'string', default: 'get,list,list-secrets,watch' },
    rounds: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '3' },
  },
});
const SECONDS = Number(flags.seconds);
const CONNECTIONS = Number(flags.connections);
const WATCHES = Number(flags.watches);
const OBJECTS = Number(flags.objects);
const ROUNDS = Math.max(1, Number(flags.rounds));
const WARMUP_SECONDS = Number(flags.warmup);
const ALL_WAYS = ['get', 'list', 'list-secrets', 'watch'] as const;
const WAYS = ALL_WAYS.filter((way) => flags.ways.split(',').includes(way));
const WRITERS = 4;
const NAMESPACE = 'bench';
const RESOURCE = { name: 'bench-cluster', type: 'kubernetes', environment: 'production' } as const;
// A person with read access: reads are allowed, Secret values come back masked.
const READER = { sub: 'dana-bench', roles: ['reader'], kind: 'human' as const };
const SECRET_VALUE = 'bench-secret-value-do-not-show';

type Way = 'get' | 'list' | 'list-secrets' | 'watch';
/** `direct-rbac`: straight at the API server with the PEP's own, RBAC-checked credential. */
type TargetName = 'direct' | 'pep' | 'direct-rbac';

interface Measure {
  readonly way: Way;
  readonly target: TargetName;
  /** Requests per second, or watch events per second. */
  readonly rate: number;
  readonly count: number;
  readonly p99Ms?: number;
  /** Writes per second the writer made during a watch measure. */
  readonly writes?: number;
  readonly cpu: Record<string, number>;
}

const say = (message: string): void => void process.stderr.write(`[bench:pep-kubernetes] ${message}\n`);

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-kube-'));
  const services: Service[] = [];
  let kube: TestKubeApiServer | undefined;
  try {
    say('starting etcd and kube-apiserver (127.0.0.1, audit log on)…');
    kube = await startTestKubeApiServer();
    await kube.createNamespace(NAMESPACE);
    say(`creating ${OBJECTS} ConfigMaps and ${OBJECTS} Secrets in namespace ${NAMESPACE}…`);
    const admin = { url: kube.url, ca: readFileSync(kube.caFile), token: kube.adminToken };
    for (let index = 0; index < OBJECTS; index += 1) {
      await call(admin, 'POST', `/api/v1/namespaces/${NAMESPACE}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${index}` }, data: { counter: '0', note: 'x'.repeat(200) } });
      await call(admin, 'POST', `/api/v1/namespaces/${NAMESPACE}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `secret-${index}` }, stringData: { password: SECRET_VALUE, user: `user-${index}` } });
    }

    say('starting the PDP (starter pack + a bench-cluster resource, audit on)…');
    const stateDir = join(work, 'pdp-state');
    mkdirSync(stateDir);
    const policyDir = writeBenchPolicyPack(join(work, 'policy'), RESOURCE);
    const issuer = new DevIssuer({ directory: devIssuerDirectory(stateDir) });
    const pepToken = await issuer.issue({ sub: 'pep-bench-cluster', roles: ['pep'], resources: [RESOURCE.name], ttlSeconds: 6 * 3600 });
    const readerToken = await issuer.issue({ ...READER, ttlSeconds: 6 * 3600 });
    const pdp = await startPdpProcess('pdp', { PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_POLICY_DIR: policyDir, PORTCULLIS_AUDIT_SINK: 'default' }, process.env.BENCH_PDP_NODE_OPTIONS);
    services.push(pdp);

    say('starting the Kubernetes PEP…');
    const ca = createTestCa(work, 'pep-ca');
    const serving = issueCertificate(ca, work, 'pep-serving', { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const pepPort = await freePort();
    // BENCH_PEP_NODE_OPTIONS (e.g. --cpu-prof --cpu-prof-dir=DIR) profiles the PEP under this load.
    const pep = await startService('pep-kubernetes', process.execPath, [...nodeFlags(process.env.BENCH_PEP_NODE_OPTIONS), join(REPOSITORY_ROOT, 'pep-agents/kubernetes/bin/pep-kubernetes.mjs')], {
      PATH: process.env.PATH,
      PORTCULLIS_PEP_LISTEN_HOST: '127.0.0.1',
      PORTCULLIS_PEP_LISTEN_PORT: String(pepPort),
      PORTCULLIS_PEP_STATE_DIR: join(work, 'pep-state'),
      PORTCULLIS_PEP_TLS_CERT_FILE: serving.certFile,
      PORTCULLIS_PEP_TLS_KEY_FILE: serving.keyFile,
      PORTCULLIS_PEP_KUBERNETES_UPSTREAM_URL: kube.url,
      PORTCULLIS_PEP_KUBERNETES_UPSTREAM_CA_FILE: kube.caFile,
      PORTCULLIS_PEP_KUBERNETES_UPSTREAM_TOKEN: kube.pepToken,
      PORTCULLIS_PEP_PDP_URL: pdp.url,
      PORTCULLIS_PEP_TOKEN: pepToken,
      PORTCULLIS_PEP_RESOURCE_NAME: RESOURCE.name,
      PORTCULLIS_PEP_RESOURCE_ENVIRONMENT: RESOURCE.environment,
      PORTCULLIS_LOG_LEVEL: 'warn',
    }, () => acceptsConnections(pepPort));
    services.push(pep);

    const targets = {
      direct: { url: kube.url, ca: readFileSync(kube.caFile), token: kube.adminToken },
      pep: { url: `https://127.0.0.1:${pepPort}`, ca: readFileSync(ca.certFile), token: readerToken },
      'direct-rbac': { url: kube.url, ca: readFileSync(kube.caFile), token: kube.pepToken },
    };
    const pids = { pep: pep.process.pid!, pdp: pdp.process.pid!, apiserver: kube.pids().apiserver, etcd: kube.pids().etcd };
    const cpu = (): Record<string, number> => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processTreeCpuSeconds(pid)]));

    await checkSecretsAreMasked(targets.pep);

    const paths: Record<Exclude<Way, 'watch'>, string> = {
      get: `/api/v1/namespaces/${NAMESPACE}/configmaps/cm-0`,
      list: `/api/v1/namespaces/${NAMESPACE}/configmaps`,
      'list-secrets': `/api/v1/namespaces/${NAMESPACE}/secrets`,
    };
    const results: Measure[] = [];
    // Direct and PEP alternate way by way, so a neighbour's load falls on both alike.
    for (const way of WAYS) {
      const wayTargets: readonly TargetName[] = way === 'get' || way === 'list' ? ['direct', 'pep', 'direct-rbac'] : ['direct', 'pep'];
      if (way !== 'watch' && WARMUP_SECONDS > 0) {
        for (const target of wayTargets) {
          say(`warm-up, ${target}: ${way}, ${WARMUP_SECONDS} s…`);
          await wrk(work, targets[target], paths[way], `${target}-${way}-warmup`, WARMUP_SECONDS);
        }
      }
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const target of wayTargets) {
          if (way === 'watch') {
            if (target === 'direct-rbac') continue;
            say(`${target}: ${WATCHES} watches while ${WRITERS} writers update ConfigMaps, ${SECONDS} s…`);
            results.push(await measureWatch(target, targets[target], admin, cpu));
            continue;
          }
          say(`${target}: ${way} ${paths[way]}, wrk ${CONNECTIONS} connections, ${SECONDS} s…`);
          const before = cpu();
          const run = await wrk(work, targets[target], paths[way], `${target}-${way}`);
          results.push({ way, target, rate: run.requestsPerSecond, count: run.requests, p99Ms: run.p99Ms, cpu: cpuDelta(before, cpu()) });
        }
      }
    }
    report(results);
    const resultsDir = join(REPOSITORY_ROOT, 'bench/results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'pep-kubernetes.json'), `${JSON.stringify({ at: new Date().toISOString(), loadavg: readFileSync('/proc/loadavg', 'utf8').trim(), seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, watches: WATCHES, objects: OBJECTS, cores: availableParallelism(), results }, null, 2)}\n`);
    say('results: bench/results/pep-kubernetes.json');
  } finally {
    for (const service of services.reverse()) await service.stop();
    await kube?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

interface Target {
  readonly url: string;
  readonly ca: Buffer;
  readonly token: string;
}

function wrk(work: string, target: Target, path: string, name: string, seconds = SECONDS): Promise<WrkResult> {
  return runWrk({
    url: `${target.url}${path}`,
    method: 'GET',
    bodies: [],
    headers: { Authorization: `Bearer ${target.token}`, Accept: 'application/json' },
    connections: CONNECTIONS,
    threads: 1,
    seconds,
    scriptPath: join(work, `${name}.lua`),
  });
}

const agents = new Map<string, Agent>();
function agentFor(target: Target): Agent {
  let agent = agents.get(target.url);
  if (!agent) {
    agent = new Agent({ keepAlive: true, ca: target.ca, maxSockets: 16 });
    agents.set(target.url, agent);
  }
  return agent;
}

function options(target: Target, method: string, path: string, contentType?: string): RequestOptions {
  const url = new URL(target.url);
  return {
    host: url.hostname,
    port: url.port,
    method,
    path,
    agent: agentFor(target),
    headers: { authorization: `Bearer ${target.token}`, accept: 'application/json', ...(contentType ? { 'content-type': contentType } : {}) },
  };
}

/** One request; its JSON answer (an error names the status and the answer's message). */
function call(target: Target, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const outgoing = request(options(target, method, path, body === undefined ? undefined : contentType), (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((response.statusCode ?? 0) >= 300) return reject(new Error(`${method} ${path}: ${response.statusCode} ${text.slice(0, 300)}`));
        resolve(text === '' ? undefined : JSON.parse(text));
      });
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function checkSecretsAreMasked(pep: Target): Promise<void> {
  const list = JSON.stringify(await call(pep, 'GET', `/api/v1/namespaces/${NAMESPACE}/secrets`));
  const clear = Buffer.from(SECRET_VALUE).toString('base64');
  if (list.includes(clear) || list.includes(SECRET_VALUE)) throw new Error('bench: the PEP returned a Secret value in clear to a reader; the masked LIST figure would not measure masking');
  if (!list.includes('"items"')) throw new Error(`bench: the PEP's answer to a Secret LIST is not a list: ${list.slice(0, 300)}`);
}

/**
 * WATCHES watches of the namespace's ConfigMaps through `target`, while WRITERS loops update the
 * ConfigMaps straight at the API server for SECONDS: watch events delivered per second, all
 * watches together.
 */
async function measureWatch(targetName: 'direct' | 'pep', target: Target, admin: Target, cpu: () => Record<string, number>): Promise<Measure> {
  const list = (await call(admin, 'GET', `/api/v1/namespaces/${NAMESPACE}/configmaps`)) as { metadata: { resourceVersion: string } };
  const from = list.metadata.resourceVersion;
  let events = 0;
  const streams = await Promise.all(Array.from({ length: WATCHES }, () => openWatch(target, `/api/v1/namespaces/${NAMESPACE}/configmaps?watch=1&resourceVersion=${from}&allowWatchBookmarks=false`, () => void (events += 1))));
  try {
    const before = cpu();
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    let writes = 0;
    await Promise.all(Array.from({ length: WRITERS }, async (_, writer) => {
      for (let step = 0; performance.now() < deadline; step += 1) {
        const name = `cm-${(writer + step * WRITERS) % OBJECTS}`;
        // A value never written before: a patch that changes nothing makes no watch event.
        await call(admin, 'PATCH', `/api/v1/namespaces/${NAMESPACE}/configmaps/${name}`, { data: { counter: `${targetName}-${writer}-${step}` } }, 'application/merge-patch+json');
        writes += 1;
      }
    }));
    // Events of the last writes are still on their way: wait until every watch has them all.
    const expected = writes * WATCHES;
    const waitUntil = performance.now() + 30_000;
    while (events < expected && performance.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = (performance.now() - started) / 1000;
    if (events < expected) throw new Error(`${targetName}: ${events} of ${expected} watch events arrived within 30 s after the writes`);
    return { way: 'watch', target: targetName, rate: events / seconds, count: events, writes: writes / seconds, cpu: cpuDelta(before, cpu()) };
  } finally {
    for (const stream of streams) stream.destroy();
  }
}

/** A watch stream; `onEvent` for each newline-delimited event. */
function openWatch(target: Target, path: string, onEvent: () => void): Promise<{ destroy(): void }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ ...options(target, 'GET', path), agent: new Agent({ ca: target.ca }) }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`watch ${path}: ${response.statusCode}`));
      let partial = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        partial += chunk;
        let newline = partial.indexOf('\n');
        while (newline !== -1) {
          const line = partial.slice(0, newline);
          partial = partial.slice(newline + 1);
          if (line.trim() !== '') {
            const event = JSON.parse(line) as { type: string };
            if (event.type === 'ERROR') throw new Error(`watch ${path}: ${line.slice(0, 300)}`);
            onEvent();
          }
          newline = partial.indexOf('\n');
        }
      });
      response.on('error', () => undefined);
      resolve({ destroy: () => outgoing.destroy() });
    });
    outgoing.on('error', (error) => {
      if (!outgoing.destroyed) reject(error);
    });
    outgoing.end();
  });
}

function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((name) => [name, after[name]! - before[name]!]));
}

function report(results: readonly Measure[]): void {
  const rows: Record<Way, string> = {
    get: 'GET one ConfigMap, requests/s',
    list: `LIST ${OBJECTS} ConfigMaps, requests/s`,
    'list-secrets': `LIST ${OBJECTS} Secrets (masked through the PEP), requests/s`,
    watch: `watch events/s, ${WATCHES} watches, writer direct`,
  };
  const median = (values: readonly number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  /** CPU µs per request (or watch event) of one process, over every round of a way and target. */
  const perUnit = (measures: readonly Measure[], name: string): number => {
    const count = measures.reduce((sum, measure) => sum + measure.count, 0);
    return (measures.reduce((sum, measure) => sum + (measure.cpu[name] ?? 0), 0) / count) * 1e6;
  };
  console.log(`\nKubernetes PEP — wrk ${CONNECTIONS} connections, ${SECONDS} s per way, ${ROUNDS} round(s), ${availableParallelism()} cores, audit jsonl, no impersonation (the default) (target ≥ 0.5); load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  /** The rate table of `ways` against one baseline: medians, the PEP's ratio and its range over the rounds. */
  const ratioTable = (baseline: TargetName, ways: readonly Way[]): void => {
    console.log(`${'way'.padEnd(56)}${'direct'.padStart(10)}${'PEP'.padStart(10)}${'PEP/direct'.padStart(12)}${'range'.padStart(14)}`);
    for (const way of ways) {
      const direct = results.filter((measure) => measure.way === way && measure.target === baseline);
      const pep = results.filter((measure) => measure.way === way && measure.target === 'pep');
      const ratios = pep.map((measure, index) => measure.rate / direct[index]!.rate);
      const range = ratios.length > 1 ? `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}` : '';
      const directRate = median(direct.map((measure) => measure.rate));
      const pepRate = median(pep.map((measure) => measure.rate));
      console.log(`${rows[way].padEnd(56)}${directRate.toFixed(1).padStart(10)}${pepRate.toFixed(1).padStart(10)}${median(ratios).toFixed(3).padStart(12)}${range.padStart(14)}`);
    }
  };
  ratioTable('direct', WAYS);
  const sameStanding = WAYS.filter((way) => results.some((measure) => measure.way === way && measure.target === 'direct-rbac'));
  if (sameStanding.length > 0) {
    console.log(`\nstraight at the API server with the PEP's own credential (RBAC-checked, as any client outside system:masters):`);
    ratioTable('direct-rbac', sameStanding);
  }
  const unit = (way: Way): string => (way === 'watch' ? 'watch event' : 'request');
  console.log(`\nCPU µs per ${unit('get')} (per watch event for watch): PEP / PDP / apiserver / etcd`);
  for (const way of WAYS) {
    for (const target of ['direct', 'direct-rbac', 'pep'] as const) {
      const measures = results.filter((measure) => measure.way === way && measure.target === target);
      if (measures.length === 0) continue;
      const text = ['pep', 'pdp', 'apiserver', 'etcd'].map((name) => perUnit(measures, name).toFixed(0).padStart(5)).join(' /');
      console.log(`  ${way.padEnd(13)}${target.padEnd(12)}${text}`);
    }
  }
  const getDirect = results.filter((measure) => measure.way === 'get' && measure.target === 'direct');
  const getPep = results.filter((measure) => measure.way === 'get' && measure.target === 'pep');
  if (getPep.length > 0) console.log(`\np99 GET: direct ${median(getDirect.map((measure) => measure.p99Ms ?? 0)).toFixed(2)} ms, PEP ${median(getPep.map((measure) => measure.p99Ms ?? 0)).toFixed(2)} ms`);
  const watchDirect = results.filter((measure) => measure.way === 'watch' && measure.target === 'direct');
  const watchPep = results.filter((measure) => measure.way === 'watch' && measure.target === 'pep');
  if (watchPep.length > 0) console.log(`watch: the writer made ${median(watchDirect.map((measure) => measure.writes ?? 0)).toFixed(0)} writes/s direct, ${median(watchPep.map((measure) => measure.writes ?? 0)).toFixed(0)} writes/s while watched through the PEP`);
}

await main();
