// The SSH PEP against the sshd it fronts, on the same client and load, in one run:
//  - commands per second, a new channel per command on one kept connection (what agents do);
//  - commands per second, a new connection per command;
//  - bulk output: `cat` of a large file, with byte-stream masking on through the PEP.
// Each way is reported as PEP / direct. The PDP decides every command through the starter pack
// (plus a bench resource whose shell output policy masks), with its audit trail on.
//
//   npm run bench:pep-ssh [-- --seconds 10 --concurrency 4 --bulk-mib 256 --ways channel,connection,bulk]
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ssh2, { type Client, type ConnectConfig } from 'ssh2';
import { DevIssuer, devIssuerDirectory } from '@portcullis/pdp';
import { REPOSITORY_ROOT } from '../test/support/repository-root.ts';
import { startTestSshd, type TestSshd } from '../test/support/sshd-server.ts';
import { writeBenchPolicyPack } from './lib/bench-policy-pack.ts';
import { startPdpProcess } from './lib/pdp-process.ts';
import { processTreeCpuSeconds } from './lib/process-cpu.ts';
import { freePort, nodeFlags, startService, type Service } from './lib/processes.ts';
import { acceptsConnections } from './lib/tcp-probe.ts';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '10' },
    concurrency: { type: 'string', default: '4' },
    'bulk-mib': { type: 'string', default: process.env.BENCH_BULK_MIB ?? '256' },
    // A subset, e.g. `bulk` alone while profiling the masked relay.
    ways: { type: 'string', default: 'channel,connection,bulk' },
  },
});
const SECONDS = Number(flags.seconds);
const CONCURRENCY = Number(flags.concurrency);
const BULK_MIB = Number(flags['bulk-mib']);
const WAYS = new Set(flags.ways.split(',').map((way) => way.trim()));
const RESOURCE = { name: 'bench-ssh', type: 'ssh', environment: 'production' } as const;
const AGENT = { sub: 'agent-bench', roles: ['reader'], kind: 'agent' as const };
// One line in fifty carries a value the detectors find, as a log with customer addresses would.
const MASKED_DETECTORS = ['email', 'credit-card'];

type Way = 'channel' | 'connection' | 'bulk';
interface Measure {
  readonly way: Way;
  readonly target: 'direct' | 'pep';
  /** Commands per second, or MiB per second for bulk. */
  readonly rate: number;
  readonly count: number;
  readonly seconds: number;
  readonly cpu: Record<string, number>;
}

const say = (message: string): void => void process.stderr.write(`[bench:pep-ssh] ${message}\n`);

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-ssh-'));
  const services: Service[] = [];
  let sshd: TestSshd | undefined;
  try {
    say('starting sshd (127.0.0.1, key login, no host-side logging wrapper)…');
    sshd = await startTestSshd({ logCommands: false });
    const bulkFile = join(sshd.workDir, 'bulk.log');
    say(`writing the ${BULK_MIB} MiB bulk file…`);
    writeBulkFile(bulkFile, BULK_MIB);
    if (process.getuid?.() === 0) {
      const owner = statSync(sshd.workDir);
      chownSync(bulkFile, owner.uid, owner.gid);
    }

    say('starting the PDP (starter pack + a bench-ssh resource whose shell output is masked, audit on)…');
    const stateDir = join(work, 'pdp-state');
    mkdirSync(stateDir);
    const policyDir = writeBenchPolicyPack(join(work, 'policy'), RESOURCE);
    maskShellOutputOf(policyDir, RESOURCE.name);
    const issuer = new DevIssuer({ directory: devIssuerDirectory(stateDir) });
    const pepToken = await issuer.issue({ sub: 'pep-bench-ssh', roles: ['pep'], resources: [RESOURCE.name], ttlSeconds: 6 * 3600 });
    const agentToken = await issuer.issue({ ...AGENT, ttlSeconds: 6 * 3600 });
    const pdp = await startPdpProcess('pdp', { PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_POLICY_DIR: policyDir, PORTCULLIS_AUDIT_SINK: 'default' }, process.env.BENCH_PDP_NODE_OPTIONS);
    services.push(pdp);

    say('starting the SSH PEP…');
    const knownHosts = join(work, 'upstream_known_hosts');
    writeFileSync(knownHosts, `${sshd.knownHostsLine()}\n`);
    const pepPort = await freePort();
    // BENCH_PEP_NODE_OPTIONS (e.g. --cpu-prof --cpu-prof-dir=DIR) profiles the PEP under this load.
    const pep = await startService('pep-ssh', process.execPath, [...nodeFlags(process.env.BENCH_PEP_NODE_OPTIONS), join(REPOSITORY_ROOT, 'pep-agents/ssh/bin/pep-ssh.mjs')], {
      PATH: process.env.PATH,
      PORTCULLIS_PEP_LISTEN_HOST: '127.0.0.1',
      PORTCULLIS_PEP_LISTEN_PORT: String(pepPort),
      PORTCULLIS_PEP_STATE_DIR: join(work, 'pep-state'),
      PORTCULLIS_PEP_SSH_UPSTREAM_HOST: '127.0.0.1',
      PORTCULLIS_PEP_SSH_UPSTREAM_PORT: String(sshd.port),
      PORTCULLIS_PEP_SSH_UPSTREAM_USER: sshd.user,
      PORTCULLIS_PEP_SSH_UPSTREAM_KEY_FILE: sshd.clientKeyPath,
      PORTCULLIS_PEP_SSH_UPSTREAM_KNOWN_HOSTS: knownHosts,
      PORTCULLIS_PEP_PDP_URL: pdp.url,
      PORTCULLIS_PEP_TOKEN: pepToken,
      PORTCULLIS_PEP_RESOURCE_NAME: RESOURCE.name,
      PORTCULLIS_PEP_RESOURCE_ENVIRONMENT: RESOURCE.environment,
      PORTCULLIS_LOG_LEVEL: 'warn',
    }, () => acceptsConnections(pepPort));
    services.push(pep);

    // The same client library and load on both sides; only the login differs (the host's key
    // directly, the caller's token through the PEP). The bench trusts its own loopback host keys.
    const logins: Record<'direct' | 'pep', ConnectConfig> = {
      direct: { host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: sshd.clientKey, hostVerifier: () => true, readyTimeout: 30_000 },
      pep: { host: '127.0.0.1', port: pepPort, username: AGENT.sub, password: agentToken, hostVerifier: () => true, readyTimeout: 30_000 },
    };
    const pids = { pep: pep.process.pid!, pdp: pdp.process.pid!, sshd: sshd.pid };
    // The bench process is the SSH client on both sides (its own CPU: decrypting what it is sent).
    const clientCpu = (): number => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    };
    const cpu = (): Record<string, number> => ({ ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processTreeCpuSeconds(pid)])), client: clientCpu() });

    await checkOutputIsMasked(logins.pep);

    const results: Measure[] = [];
    for (const target of ['direct', 'pep'] as const) {
      if (WAYS.has('channel')) {
        say(`${target}: a new channel per command on one connection, ${CONCURRENCY} at once, ${SECONDS} s…`);
        results.push(await measureChannels(target, logins[target], cpu));
      }
      if (WAYS.has('connection')) {
        say(`${target}: a new connection per command, ${CONCURRENCY} at once, ${SECONDS} s…`);
        results.push(await measureConnections(target, logins[target], cpu));
      }
      if (WAYS.has('bulk')) {
        say(`${target}: cat of ${BULK_MIB} MiB${target === 'pep' ? ' (masked)' : ''}…`);
        results.push(await measureBulk(target, logins[target], bulkFile, cpu));
      }
    }
    report(results);
    const resultsDir = join(REPOSITORY_ROOT, 'bench/results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'pep-ssh.json'), `${JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, concurrency: CONCURRENCY, bulkMib: BULK_MIB, cores: availableParallelism(), results }, null, 2)}\n`);
    say('results: bench/results/pep-ssh.json');
  } finally {
    for (const service of services.reverse()) await service.stop();
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Plain log lines with an address or a card number now and then: what detectors scan for real. */
function writeBulkFile(path: string, mib: number): void {
  const lines: string[] = [];
  for (let index = 0; index < 50; index += 1) {
    lines.push(index === 25
      ? `2026-12-06T10:00:${String(index).padStart(2, '0')}Z order ${index} shipped to customer jane.doe${index}@example.com card 4111 1111 1111 1111\n`
      : `2026-12-06T10:00:${String(index).padStart(2, '0')}Z worker-${index % 7} processed batch ${index * 7919} in ${index % 13} ms status=ok\n`);
  }
  const block = Buffer.from(lines.join(''));
  const chunk = Buffer.alloc(1024 * 1024);
  for (let offset = 0; offset < chunk.length; offset += block.length) block.copy(chunk, offset, 0, Math.min(block.length, chunk.length - offset));
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < mib; written += 1) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

/**
 * The bench resource's shell output is scanned for addresses and card numbers: the copied
 * starter pack's masking gains one branch (the starter pack itself masks no shell output).
 */
function maskShellOutputOf(policyDir: string, resourceName: string): void {
  const path = join(policyDir, 'portcullis/masking.rego');
  const text = readFileSync(path, 'utf8');
  const anchor = '} else := set() if {\n\tidentity.action_type != "sql"\n}';
  if (!text.includes(anchor)) throw new Error(`bench: ${path} no longer has the branch the bench extends; update maskShellOutputOf`);
  const branch = `} else := {{"kind": "byte-stream", "detectors": ${JSON.stringify(MASKED_DETECTORS)}, "strategy": "redact"}} if {\n\tidentity.action_type == "shell"\n\tinput.resource.name == ${JSON.stringify(resourceName)}\n${anchor}`;
  writeFileSync(path, text.replace(anchor, branch));
}

async function connect(login: ConnectConfig): Promise<Client> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
    client.connect(login);
  });
  client.on('error', () => undefined);
  return client;
}

/** Runs a command; resolves with its exit status and the bytes of its stdout (stdout itself only when kept). */
function exec(client: Client, command: string, keep = false): Promise<{ code: number | null; bytes: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, channel) => {
      if (error) return reject(error);
      let bytes = 0;
      const kept: Buffer[] = [];
      let stderr = '';
      let code: number | null = null;
      channel.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (keep) kept.push(chunk);
      });
      channel.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
      channel.on('exit', (status: number | null) => void (code = status));
      channel.on('close', () => resolve({ code, bytes, stdout: Buffer.concat(kept).toString(), stderr }));
    });
  });
}

async function checkOutputIsMasked(login: ConnectConfig): Promise<void> {
  const client = await connect(login);
  try {
    const result = await exec(client, 'echo reach me at jane.doe@example.com', true);
    if (result.code !== 0) throw new Error(`bench: the PEP refused the probe command (${result.code}): ${result.stderr.trim()}`);
    if (result.stdout.includes('jane.doe@example.com')) throw new Error('bench: the PEP did not mask the bench resource\'s output; the bulk figure would not measure masking');
  } finally {
    client.end();
  }
}

async function measureChannels(target: 'direct' | 'pep', login: ConnectConfig, cpu: () => Record<string, number>): Promise<Measure> {
  const client = await connect(login);
  try {
    return await runFor('channel', target, cpu, async () => {
      const result = await exec(client, 'true');
      if (result.code !== 0) throw new Error(`${target}: 'true' exited ${result.code}: ${result.stderr.trim()}`);
    });
  } finally {
    client.end();
  }
}

async function measureConnections(target: 'direct' | 'pep', login: ConnectConfig, cpu: () => Record<string, number>): Promise<Measure> {
  return runFor('connection', target, cpu, async () => {
    const client = await connect(login);
    try {
      const result = await exec(client, 'true');
      if (result.code !== 0) throw new Error(`${target}: 'true' exited ${result.code}: ${result.stderr.trim()}`);
    } finally {
      client.end();
    }
  });
}

/** `CONCURRENCY` loops of `one` for `SECONDS`: commands per second. */
async function runFor(way: Way, target: 'direct' | 'pep', cpu: () => Record<string, number>, one: () => Promise<void>): Promise<Measure> {
  const before = cpu();
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  let count = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      await one();
      count += 1;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return { way, target, rate: count / seconds, count, seconds, cpu: cpuDelta(before, cpu()) };
}

async function measureBulk(target: 'direct' | 'pep', login: ConnectConfig, file: string, cpu: () => Record<string, number>): Promise<Measure> {
  const client = await connect(login);
  try {
    const before = cpu();
    const started = performance.now();
    const result = await exec(client, `cat ${file}`);
    const seconds = (performance.now() - started) / 1000;
    if (result.code !== 0) throw new Error(`${target}: cat exited ${result.code}: ${result.stderr.trim()}`);
    return { way: 'bulk', target, rate: result.bytes / (1024 * 1024) / seconds, count: result.bytes, seconds, cpu: cpuDelta(before, cpu()) };
  } finally {
    client.end();
  }
}

function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((name) => [name, after[name]! - before[name]!]));
}

function report(results: readonly Measure[]): void {
  const of = (way: Way, target: 'direct' | 'pep'): Measure | undefined => results.find((measure) => measure.way === way && measure.target === target);
  const rows: [Way, string, string, number][] = [
    ['channel', 'commands/s, new channel per command, one connection', 'target ≥ 0.5', 0.5],
    ['connection', 'commands/s, new connection per command', '', 0],
    ['bulk', `MiB/s, cat of ${BULK_MIB} MiB (masked through the PEP)`, 'target ≥ 0.7', 0.7],
  ];
  console.log(`\nSSH PEP — ${CONCURRENCY} at once, ${SECONDS} s per way, ${availableParallelism()} cores, audit jsonl`);
  console.log(`${'way'.padEnd(56)}${'direct'.padStart(10)}${'PEP'.padStart(10)}${'PEP/direct'.padStart(12)}   CPU s (PEP / PDP / sshd) through the PEP`);
  for (const [way, label, target] of rows) {
    const direct = of(way, 'direct');
    const pep = of(way, 'pep');
    if (!direct || !pep) continue;
    const ratio = pep.rate / direct.rate;
    const cpuText = `${pep.cpu.pep!.toFixed(1)} / ${pep.cpu.pdp!.toFixed(1)} / ${pep.cpu.sshd!.toFixed(1)}`;
    console.log(`${label.padEnd(56)}${direct.rate.toFixed(1).padStart(10)}${pep.rate.toFixed(1).padStart(10)}${ratio.toFixed(3).padStart(12)}   ${cpuText}${target ? `  (${target})` : ''}`);
  }
  const perCommand = of('channel', 'pep');
  if (perCommand) console.log(`\nper command through the PEP (one connection): PEP ${((perCommand.cpu.pep! / perCommand.count) * 1e6).toFixed(0)} µs CPU, PDP ${((perCommand.cpu.pdp! / perCommand.count) * 1e6).toFixed(0)} µs CPU`);
  // CPU per MiB is what load on the machine disturbs least: the figure to compare between runs.
  for (const target of ['direct', 'pep'] as const) {
    const bulk = of('bulk', target);
    if (!bulk) continue;
    const mib = bulk.count / (1024 * 1024);
    const per = (name: string): string => ((bulk.cpu[name]! / mib) * 1e6).toFixed(0);
    console.log(`per MiB of bulk output, ${target === 'pep' ? 'masked through the PEP' : 'direct'}: ${target === 'pep' ? `PEP ${per('pep')} µs CPU, ` : ''}sshd ${per('sshd')} µs, client ${per('client')} µs`);
  }
}

await main();
