// The MCP gateway against the MCP servers it fronts, with the same SDK client and load, in one run:
//  - `echo` on the reference everything server over Streamable HTTP (direct: the client's HTTP to
//    the server; through the gateway: the client's HTTP to the gateway, the gateway's to the server);
//  - `read_text_file` of a 1 KiB file on the reference filesystem server over stdio (direct: the
//    client starts the server and speaks stdio to it). Through the gateway two ways: the client
//    speaks HTTP to the gateway, which starts one server process per session, as an MCP host would;
//    and the gateway in stdio mode, started by each client as a local agent starts it, which starts
//    its server in turn (the like-for-like baseline of a stdio server).
// Each is reported as tool calls per second, gateway / direct, with p50/p99 per call and where the
// CPU went. Several clients run at once, each its own MCP session calling in a closed loop. The
// PDP decides every call through the starter pack, with its audit trail on; every answer is
// checked, so a denial's quick error can never pass for a fast call.
//
// Before the measured rounds every way runs once untimed (`--warmup`, 3 s): direct and through the
// gateway alike, so the rounds compare warm processes (the first seconds of a fresh Node process
// go to compiling its hot code, and in the first round that fell on the gateway and the PDP alone).
//
//   npm run bench:pep-mcp [-- --seconds 10 --clients 8 --ways echo,read --warmup 3]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { DevIssuer, devIssuerDirectory } from '@portcullis/pdp';
import { connectHttpClient, connectStdioClient, type EverythingServer, type FilesystemServerFixture, prepareFilesystemServer, type StdioServerLaunch, startEverythingServer } from '../test/support/mcp-servers.ts';
import { REPOSITORY_ROOT } from '../test/support/repository-root.ts';
import { writeBenchPolicyPack } from './lib/bench-policy-pack.ts';
import { scrapeMetrics, startPdpProcess } from './lib/pdp-process.ts';
import { nowMs, summarize, type LatencySummary } from './lib/percentiles.ts';
import { childProcessIds, processTreeCpuSeconds } from './lib/process-cpu.ts';
import { freePort, nodeFlags, startService, type Service } from './lib/processes.ts';
import { acceptsConnections } from './lib/tcp-probe.ts';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '10' },
    clients: { type: 'string', default: process.env.BENCH_CLIENTS ?? '8' },
    ways: { type: 'string', default: 'echo,read' },
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '3' },
    warmup: { type: 'string', default: '3' },
  },
});
const SECONDS = Number(flags.seconds);
const CLIENTS = Number(flags.clients);
// Direct and through the gateway alternate, round after round: a machine whose load drifts moves both.
const ROUNDS = Number(flags.rounds);
const WARMUP_SECONDS = Number(flags.warmup);
const WAYS = flags.ways.split(',').filter((way): way is Way => way === 'echo' || way === 'read');
// The starter pack's own MCP resources (staging): the filesystem server's paths are analysed and
// held to its roots, as any agent's calls would be.
const EVERYTHING = { name: 'mcp-everything', environment: 'staging' } as const;
const FILES = { name: 'mcp-files', environment: 'staging' } as const;
// An agent with read access: both tools are read-only ones (readOnlyHint), which readers may call.
const AGENT = { sub: 'agent-bench', roles: ['reader'], kind: 'agent' as const };
const FILE_TEXT = `${'portcullis bench line\n'.repeat(46)}`.slice(0, 1024);

type Way = 'echo' | 'read';
type Target = 'direct' | 'gateway' | 'gateway-stdio';
interface Measure {
  readonly round: number;
  readonly way: Way;
  readonly target: Target;
  readonly callsPerSecond: number;
  readonly calls: number;
  readonly latency: LatencySummary;
  /** CPU seconds over the measure: the gateway (without its stdio servers), the PDP, the server(s), this process (the clients). */
  readonly cpu: { gateway: number; pdp: number; server: number; clients: number };
  /** What each call asked of the PDP: HTTP requests, decisions, session events, and a decision's mean time inside the PDP. */
  readonly pdp: { requests: number; decisions: number; sessionEvents: number; decisionMs: number };
}

const say = (message: string): void => void process.stderr.write(`[bench:pep-mcp] ${message}\n`);

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-mcp-'));
  const services: Service[] = [];
  let everything: EverythingServer | undefined;
  let files: FilesystemServerFixture | undefined;
  try {
    say('starting the everything server (Streamable HTTP, 127.0.0.1)…');
    everything = await startEverythingServer();
    files = prepareFilesystemServer();
    const filePath = join(files.workspace, 'bench.txt');
    writeFileSync(filePath, FILE_TEXT);

    say('starting the PDP (starter pack, audit on)…');
    const stateDir = join(work, 'pdp-state');
    mkdirSync(stateDir);
    const policyDir = writeBenchPolicyPack(join(work, 'policy'));
    const issuer = new DevIssuer({ directory: devIssuerDirectory(stateDir) });
    const pepToken = await issuer.issue({ sub: 'pep-bench-mcp', roles: ['pep'], resources: [EVERYTHING.name, FILES.name], ttlSeconds: 6 * 3600 });
    const agentToken = await issuer.issue({ ...AGENT, ttlSeconds: 6 * 3600 });
    const pdp = await startPdpProcess('pdp', { PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_POLICY_DIR: policyDir, PORTCULLIS_AUDIT_SINK: 'default' }, process.env.BENCH_PDP_NODE_OPTIONS);
    services.push(pdp);

    say('starting the MCP gateway…');
    const serversFile = join(work, 'servers.json');
    writeFileSync(serversFile, JSON.stringify({
      servers: [
        { name: EVERYTHING.name, environment: EVERYTHING.environment, http: { url: everything.url } },
        { name: FILES.name, environment: FILES.environment, stdio: { command: files.launch.command, args: files.launch.args, env: files.launch.env } },
      ],
    }, null, 2));
    const gatewayPort = await freePort();
    // BENCH_PEP_NODE_OPTIONS (e.g. --cpu-prof --cpu-prof-dir=DIR) profiles the gateway under this load.
    const gateway = await startService('pep-mcp', process.execPath, [...nodeFlags(process.env.BENCH_PEP_NODE_OPTIONS), join(REPOSITORY_ROOT, 'pep-agents/mcp/bin/pep-mcp.mjs')], {
      PATH: process.env.PATH,
      PORTCULLIS_PEP_LISTEN_HOST: '127.0.0.1',
      PORTCULLIS_PEP_LISTEN_PORT: String(gatewayPort),
      PORTCULLIS_PEP_MCP_SERVERS_FILE: serversFile,
      PORTCULLIS_PEP_MCP_MAX_SESSIONS: String(Math.max(100, CLIENTS * 4)),
      PORTCULLIS_PEP_PDP_URL: pdp.url,
      PORTCULLIS_PEP_TOKEN: pepToken,
      PORTCULLIS_LOG_LEVEL: 'warn',
    }, () => acceptsConnections(gatewayPort));
    services.push(gateway);
    const gatewayUrl = (server: string): string => `http://127.0.0.1:${gatewayPort}/mcp/${server}`;
    const auth = { Authorization: `Bearer ${agentToken}` };

    const gatewayPid = gateway.process.pid!;
    const pdpPid = pdp.process.pid!;
    // The gateway in stdio mode, as a local agent starts it: one gateway process per agent, each starting its server.
    const stdioGateway: StdioServerLaunch = {
      command: process.execPath,
      args: [...nodeFlags(process.env.BENCH_PEP_NODE_OPTIONS), join(REPOSITORY_ROOT, 'pep-agents/mcp/bin/pep-mcp.mjs'), 'stdio', '--server', FILES.name],
      env: { PATH: process.env.PATH ?? '', PORTCULLIS_PEP_MCP_SERVERS_FILE: serversFile, PORTCULLIS_PEP_PDP_URL: pdp.url, PORTCULLIS_PEP_TOKEN: pepToken, PORTCULLIS_TOKEN: agentToken, PORTCULLIS_LOG_LEVEL: 'warn' },
    };
    const plans: Record<Way, readonly Target[]> = { echo: ['direct', 'gateway'], read: ['direct', 'gateway', 'gateway-stdio'] };
    const results: Measure[] = [];
    // Round 0 warms every process up and is not reported.
    for (let round = WARMUP_SECONDS > 0 ? 0 : 1; round <= ROUNDS; round += 1) {
      const seconds = round === 0 ? WARMUP_SECONDS : SECONDS;
      for (const way of WAYS) {
        for (const target of plans[way]) {
          say(round === 0 ? `warm-up, ${target}: ${way}, ${CLIENTS} clients, ${seconds} s…` : `round ${round}/${ROUNDS}, ${target}: ${way}, ${CLIENTS} clients, ${seconds} s…`);
          const clients = await Promise.all(Array.from({ length: CLIENTS }, () => {
            if (way === 'echo') return target === 'direct' ? connectHttpClient(everything!.url) : connectHttpClient(gatewayUrl(EVERYTHING.name), undefined, auth);
            if (target === 'direct') return connectStdioClient(files!.launch);
            return target === 'gateway' ? connectHttpClient(gatewayUrl(FILES.name), undefined, auth) : connectStdioClient(stdioGateway);
          }));
          try {
            const stdioPids = (): number[] => clients.map((client) => (client.transport as StdioClientTransport).pid!);
            // Which processes are the gateway, which the servers: a gateway's stdio servers are its children.
            const processes = (): { gateways: number[]; servers: number[] } => {
              if (way === 'echo') return { gateways: [gatewayPid], servers: [everything!.process.pid!] };
              if (target === 'direct') return { gateways: [], servers: stdioPids() };
              const gateways = target === 'gateway' ? [gatewayPid] : stdioPids();
              return { gateways, servers: gateways.flatMap((pid) => childProcessIds(pid)) };
            };
            const cpu = (): Measure['cpu'] => {
              const { gateways, servers } = processes();
              const serverSeconds = servers.reduce((sum, pid) => sum + processTreeCpuSeconds(pid), 0);
              // A gateway's own: its process tree without the stdio servers it started.
              const gatewaySeconds = gateways.reduce((sum, pid) => sum + processTreeCpuSeconds(pid) - childProcessIds(pid).reduce((children, child) => children + processTreeCpuSeconds(child), 0), 0);
              const usage = process.cpuUsage();
              return { gateway: gatewaySeconds, pdp: processTreeCpuSeconds(pdpPid), server: serverSeconds, clients: (usage.user + usage.system) / 1e6 };
            };
            const call = way === 'echo' ? echoCall : readCall(filePath);
            // One checked call per client first: sessions open, servers started, first decisions made.
            for (const client of clients) await call(client, 0);
            const metricsBefore = await scrapeMetrics(pdp.url);
            const before = cpu();
            const run = await closedLoop(clients, call, seconds);
            if (round === 0) continue;
            const after = cpu();
            const metricsAfter = await scrapeMetrics(pdp.url);
            const grew = (name: string): number => (metricsAfter.get(name) ?? 0) - (metricsBefore.get(name) ?? 0);
            const perCall = (name: string): number => grew(name) / run.latencies.length;
            results.push({
              round,
              way,
              target,
              callsPerSecond: run.latencies.length / run.seconds,
              calls: run.latencies.length,
              latency: summarize(run.latencies),
              cpu: { gateway: after.gateway - before.gateway, pdp: after.pdp - before.pdp, server: after.server - before.server, clients: after.clients - before.clients },
              pdp: {
                // The scrape before the run is one request of its own.
                requests: (grew('portcullis_http_requests_total') - 1) / run.latencies.length,
                decisions: perCall('portcullis_decisions_total'),
                sessionEvents: perCall('portcullis_session_events_recorded_total'),
                decisionMs: grew('portcullis_decision_duration_seconds_count') > 0 ? (grew('portcullis_decision_duration_seconds_sum') / grew('portcullis_decision_duration_seconds_count')) * 1000 : 0,
              },
            });
          } finally {
            await Promise.all(clients.map(endSession));
          }
        }
      }
    }
    report(results);
    const resultsDir = join(REPOSITORY_ROOT, 'bench/results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'pep-mcp.json'), `${JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, clients: CLIENTS, rounds: ROUNDS, cores: availableParallelism(), loadavg: loadavg(), results }, null, 2)}\n`);
    say('results: bench/results/pep-mcp.json');
  } finally {
    for (const service of services.reverse()) await service.stop();
    await everything?.stop();
    files?.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Ends a client's session as an agent that is done does (DELETE over Streamable HTTP), then closes it. */
async function endSession(client: Client): Promise<void> {
  if (client.transport instanceof StreamableHTTPClientTransport) await client.transport.terminateSession().catch(() => undefined);
  await client.close();
}

type Call = (client: Client, sequence: number) => Promise<void>;

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  if (result.isError) throw new Error(`the call failed: ${JSON.stringify(result.content).slice(0, 300)}`);
  return (result.content as { type: string; text?: string }[]).map((part) => part.text ?? '').join('');
}

const echoCall: Call = async (client, sequence) => {
  const message = `bench ${sequence}`;
  const text = textOf(await client.callTool({ name: 'echo', arguments: { message } }));
  if (text !== `Echo: ${message}`) throw new Error(`echo answered ${JSON.stringify(text.slice(0, 100))}`);
};

function readCall(path: string): Call {
  return async (client) => {
    const text = textOf(await client.callTool({ name: 'read_text_file', arguments: { path } }));
    if (text !== FILE_TEXT) throw new Error(`read_text_file answered ${text.length} characters, not the file's ${FILE_TEXT.length}`);
  };
}

/** Every client calls, one call at a time, until `seconds` are up: each call's milliseconds. */
async function closedLoop(clients: readonly Client[], call: Call, seconds: number): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  const started = nowMs();
  const deadline = started + seconds * 1000;
  await Promise.all(clients.map(async (client) => {
    for (let sequence = 1; nowMs() < deadline; sequence += 1) {
      const begun = nowMs();
      await call(client, sequence);
      latencies.push(nowMs() - begun);
    }
  }));
  return { latencies, seconds: (nowMs() - started) / 1000 };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function report(results: readonly Measure[]): void {
  const of = (way: Way, target: Target): Measure[] => results.filter((measure) => measure.way === way && measure.target === target);
  const rows: [Way, Target, string][] = [
    ['echo', 'gateway', 'echo, everything server: agent -HTTP-> gateway -HTTP-> server'],
    ['read', 'gateway', 'read_text_file 1 KiB: agent -HTTP-> gateway -stdio-> server'],
    ['read', 'gateway-stdio', 'read_text_file 1 KiB: agent -stdio-> gateway -stdio-> server'],
  ];
  console.log(`\nMCP gateway — ${CLIENTS} SDK clients (one session each, closed loop), ${SECONDS} s per way × ${ROUNDS} rounds (medians), ${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(2)}, audit jsonl (target ≥ 0.5)`);
  console.log(`${'tool call (direct: the same transport straight to the server)'.padEnd(64)}${'direct/s'.padStart(10)}${'gateway/s'.padStart(11)}${'ratio (range)'.padStart(22)}${'p50 ms d/g'.padStart(16)}${'p99 ms d/g'.padStart(17)}`);
  const pair = (a: number, b: number): string => `${a.toFixed(2)}/${b.toFixed(2)}`;
  for (const [way, target, label] of rows) {
    const direct = of(way, 'direct');
    const gateway = of(way, target);
    if (direct.length === 0 || gateway.length === 0) continue;
    const ratios = gateway.map((measure) => measure.callsPerSecond / direct.find((other) => other.round === measure.round)!.callsPerSecond);
    const rate = (measures: Measure[]): string => median(measures.map((measure) => measure.callsPerSecond)).toFixed(0);
    const ratioText = `${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
    const p = (measures: Measure[], key: 'p50Ms' | 'p99Ms'): number => median(measures.map((measure) => measure.latency[key]));
    console.log(`${label.padEnd(64)}${rate(direct).padStart(10)}${rate(gateway).padStart(11)}${ratioText.padStart(22)}${pair(p(direct, 'p50Ms'), p(gateway, 'p50Ms')).padStart(16)}${pair(p(direct, 'p99Ms'), p(gateway, 'p99Ms')).padStart(17)}`);
  }
  console.log('\nper call, all rounds: CPU µs (gateway / PDP / server / clients); PDP requests, decisions, session events; mean decision ms in the PDP');
  for (const [way, target] of [['echo', 'direct'], ['echo', 'gateway'], ['read', 'direct'], ['read', 'gateway'], ['read', 'gateway-stdio']] as const) {
    const measures = of(way, target);
    if (measures.length === 0) continue;
    const calls = measures.reduce((sum, measure) => sum + measure.calls, 0);
    const perCall = (key: keyof Measure['cpu']): string => ((measures.reduce((sum, measure) => sum + measure.cpu[key], 0) / calls) * 1e6).toFixed(0);
    const weighted = (key: keyof Measure['pdp']): number => measures.reduce((sum, measure) => sum + measure.pdp[key] * measure.calls, 0) / calls;
    const asked = target === 'direct' ? '' : `   ${weighted('requests').toFixed(2)} req, ${weighted('decisions').toFixed(2)} dec, ${weighted('sessionEvents').toFixed(2)} ev, ${median(measures.map((measure) => measure.pdp.decisionMs)).toFixed(2)} ms`;
    console.log(`  ${`${way}, ${target}`.padEnd(24)}${(['gateway', 'pdp', 'server', 'clients'] as const).map(perCall).join(' / ').padEnd(28)}${asked}`);
  }
}

await main();
