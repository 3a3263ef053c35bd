// Real Apache Kafka brokers for tests: single-node KRaft (broker and controller in one JVM) on
// 127.0.0.1, each with its own data folder and ports. The jars and the broker's configuration come
// from scripts/components.sh (install kafka, prepare kafka), so they are defined in one place;
// this module owns the process: start, readiness, stop, kill, restart.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPONENTS = join(REPO_ROOT, 'scripts/components.sh');

export interface KafkaBrokerOptions {
  /**
   * Full JIT for a broker that must perform (benchmarks). Tests start faster with C1 only,
   * which leaves the broker slower under load.
   */
  fullJit?: boolean;
  /** Data folder (configuration, log segments, kafka.log). Default: a new temporary folder. */
  dataDir?: string;
  /** PLAINTEXT port on 127.0.0.1; 0 or absent picks a free port. */
  port?: number;
  /** KRaft controller port; absent picks a free port. */
  controllerPort?: number;
  /** Keep the data folder on stop(). A temporary folder is otherwise removed; a given one is always kept. */
  keepData?: boolean;
  /** Bound on one start-up, until the broker answers a metadata request. Default 90 s. */
  startTimeoutMs?: number;
  /** Broker settings added to the prepared server.properties, e.g. a short log.retention.check.interval.ms. */
  serverProperties?: Readonly<Record<string, string>>;
}

export interface KafkaBroker {
  /** Bootstrap addresses for kafkajs: ['127.0.0.1:<port>']. */
  readonly brokers: string[];
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  /** The broker's stdout/stderr (log4j at WARN, plus start-up lines). */
  readonly logFile: string;
  /** Whether the JVM is running. */
  readonly running: boolean;
  /** SIGTERM, wait for the exit, SIGKILL if that takes too long. Removes a temporary data folder unless keepData. */
  stop(): Promise<void>;
  /** SIGKILL, for outage tests; the data stays for restart(). */
  kill(): Promise<void>;
  /** Stops the broker if it runs (SIGTERM), then starts it again on the same ports with the same data. */
  restart(): Promise<void>;
}

const STOP_GRACE_MS = 20_000;

/** Starts a broker and resolves once it answers a kafkajs metadata request. */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const ownDir = options.dataDir === undefined;
  const dataDir = resolve(options.dataDir ?? mkdtempSync(join(tmpdir(), 'portcullis-kafka-')));
  mkdirSync(dataDir, { recursive: true });
  const libs = (await components('path', 'kafka-libs')).trim();
  const startTimeoutMs = options.startTimeoutMs ?? 90_000;
  const pickPorts = !options.port;

  let port = options.port || 0;
  let controllerPort = options.controllerPort ?? 0;
  let jvm: RunningJvm | undefined;
  let removed = false;

  // A start that fails or times out leaves no half-started JVM behind.
  const launch = async (): Promise<void> => {
    const started = spawnBroker(libs, dataDir, options.fullJit);
    jvm = started;
    try {
      await waitUntilReady(started, port, startTimeoutMs);
    } catch (error) {
      await terminate(started, 'SIGKILL');
      throw error;
    }
  };

  // Free ports picked here can be taken by someone else before the JVM binds them: pick again.
  for (let attempt = 1; ; attempt++) {
    if (pickPorts) port = await freePort();
    if (!options.controllerPort) controllerPort = await freePort([port]);
    await components('prepare', 'kafka', '--dir', dataDir, '--port', String(port), '--controller-port', String(controllerPort));
    const extra = Object.entries(options.serverProperties ?? {});
    if (extra.length > 0) appendFileSync(join(dataDir, 'server.properties'), `${extra.map(([name, value]) => `${name}=${value}`).join('\n')}\n`);
    try {
      await launch();
      break;
    } catch (error) {
      const taken = jvm && /failed to bind to [^\s:]+:(\d+)/.exec(readLog(jvm.logFile, jvm.logOffset))?.[1];
      const pickedTaken = (pickPorts && taken === String(port)) || (!options.controllerPort && taken === String(controllerPort));
      if (!pickedTaken || attempt >= 3) throw error;
    }
  }

  const broker: KafkaBroker = {
    brokers: [`127.0.0.1:${port}`],
    port,
    controllerPort,
    dataDir,
    logFile: join(dataDir, 'kafka.log'),
    get running() {
      return jvm !== undefined && jvm.exit === undefined;
    },
    async stop() {
      if (jvm) await terminate(jvm, 'SIGTERM');
      if (ownDir && !options.keepData && !removed) {
        removed = true;
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    async kill() {
      if (jvm) await terminate(jvm, 'SIGKILL');
    },
    async restart() {
      if (removed) throw new Error(`kafka broker: ${dataDir} was removed by stop(); use keepData to restart after stop()`);
      if (jvm) await terminate(jvm, 'SIGTERM');
      await launch();
    },
  };
  return broker;
}

interface RunningJvm {
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Where this run's output starts in the log file, which keeps every run's. */
  readonly logOffset: number;
  readonly exited: Promise<void>;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

function spawnBroker(libs: string, dataDir: string, fullJit = false): RunningJvm {
  const logFile = join(dataDir, 'kafka.log');
  const log = openSync(logFile, 'a');
  const logOffset = fstatSync(log).size;
  let child: ChildProcess;
  try {
    // jvm.options (heap, GC, logging) is written by components.sh prepare, shared with `start kafka`.
    // Tests restart brokers often and push little data: the C1-only JIT starts ~1.5 s sooner on 2 cores.
    const args = [`@${join(dataDir, 'jvm.options')}`, ...(fullJit ? [] : ['-XX:TieredStopAtLevel=1']), '-cp', `${libs}/*`, 'kafka.Kafka', join(dataDir, 'server.properties')];
    child = spawn('java', args, {
      cwd: dataDir,
      stdio: ['ignore', log, log],
    });
  } finally {
    closeSync(log);
  }
  const running: RunningJvm = {
    child,
    logFile,
    logOffset,
    exited: new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        running.exit = { code, signal };
        resolveExit();
      });
      // spawn failures (no java on PATH) arrive here instead of 'exit'.
      child.once('error', (error) => {
        appendFileSync(logFile, `\nspawning java failed: ${error.message}\n`);
        running.exit = { code: null, signal: null };
        resolveExit();
      });
    }),
  };
  // A test file that forgets stop() must still end: the broker alone does not hold this process
  // open (the watchdog below then ends it); terminate() holds it while it waits for the exit.
  child.unref();
  watchParent(child);
  return running;
}

// A test process that dies without stop() (a timeout, a crash) must not leave a JVM behind. A
// small watchdog reads a pipe from this process: when the pipe closes, however this process
// ended, it kills the broker. When the broker exits first, the watchdog is ended with it.
function watchParent(child: ChildProcess): void {
  if (child.pid === undefined) return;
  const watchdog = spawn('sh', ['-c', `cat >/dev/null; kill -9 ${child.pid} 2>/dev/null`], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  // Neither the watchdog nor its pipe may keep this process alive.
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  child.once('exit', () => watchdog.kill('SIGKILL'));
}

async function terminate(jvm: RunningJvm, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (jvm.exit) return;
  jvm.child.ref();
  jvm.child.kill(signal);
  if (signal === 'SIGTERM') {
    const timer = setTimeout(() => jvm.child.kill('SIGKILL'), STOP_GRACE_MS);
    await jvm.exited;
    clearTimeout(timer);
  } else {
    await jvm.exited;
  }
}

/** Polls with a real metadata request (kafkajs admin) until the broker lists itself, the JVM dies, or the deadline. */
async function waitUntilReady(jvm: RunningJvm, port: number, timeoutMs: number): Promise<void> {
  const started = Date.now();
  const address = `127.0.0.1:${port}`;
  let lastError = 'no answer yet';
  while (Date.now() - started < timeoutMs) {
    if (jvm.exit) {
      throw new Error(`kafka broker exited during start-up (code ${jvm.exit.code}, signal ${jvm.exit.signal}); ${tailNote(jvm)}`);
    }
    const kafka = new Kafka({
      clientId: 'portcullis-test-readiness',
      brokers: [address],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 2_000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.some((b) => b.port === port) && cluster.controller !== null && cluster.controller >= 0) return;
      lastError = `metadata without this broker or a controller: ${JSON.stringify(cluster)}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await Promise.race([delay(250), jvm.exited]);
  }
  throw new Error(`kafka broker on ${address} not ready within ${timeoutMs} ms (last: ${lastError}); ${tailNote(jvm)}`);
}

/** The end of this run's log without Java stack frames, which would crowd out the causes. */
function tailNote(jvm: RunningJvm, lines = 30): string {
  const kept = readLog(jvm.logFile, jvm.logOffset)
    .split('\n')
    .filter((line) => !/^\s+(at |\.\.\. \d+ more)/.test(line));
  return `the end of ${jvm.logFile}:\n${kept.slice(-lines).join('\n') || '(nothing logged)'}`;
}

function readLog(logFile: string, from: number): string {
  try {
    return readFileSync(logFile).subarray(from).toString('utf8');
  } catch {
    return '';
  }
}

function components(...args: string[]): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile('bash', [COMPONENTS, ...args], { cwd: REPO_ROOT, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/components.sh ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolveRun(stdout);
    });
  });
}

/** A port that was free on 127.0.0.1 a moment ago (the kernel's choice), other than `avoid`. */
async function freePort(avoid: number[] = []): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolvePort, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
      });
    });
    if (!avoid.includes(port)) return port;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolveDelay) => setTimeout(resolveDelay, ms));
}
