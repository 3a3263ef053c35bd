// A real redis-server on 127.0.0.1 and a free port, for tests (shared by pdp/ and test/).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.ts';

const COMPONENTS = fileURLToPath(new URL('../../scripts/components.sh', import.meta.url));

// --- a real redis-server on 127.0.0.1 and a free port -------------------------------------

export interface RedisServerOptions {
  /** A config file read first (Sentinel needs one it can rewrite). */
  readonly configFile?: string;
  /** Run as a Sentinel (`redis-server <config> --sentinel`). */
  readonly sentinel?: boolean;
  readonly extraArgs?: readonly string[];
  /** Working folder (cluster node files). */
  readonly cwd?: string;
}

export class RedisServer {
  #process: ChildProcess | undefined;

  private constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    // Installs the Debian package on first use; progress goes to stderr, the path to stdout.
    const binary = execFileSync('bash', [COMPONENTS, 'path', 'redis-server'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    const server = new RedisServer(binary, await freePort(), options);
    await server.restart();
    return server;
  }

  async restart(): Promise<void> {
    const args = [
      ...(this.options.configFile === undefined ? [] : [this.options.configFile]),
      ...(this.options.sentinel ? ['--sentinel'] : []),
      '--port', String(this.port), '--bind', '127.0.0.1',
      ...(this.options.sentinel ? [] : ['--save', '', '--appendonly', 'no']),
      ...(this.options.extraArgs ?? []),
    ];
    const child = spawn(this.binary, args, { stdio: 'ignore', ...(this.options.cwd ? { cwd: this.options.cwd } : {}) });
    this.#process = child;
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} on port ${this.port}`))));
    exited.catch(() => undefined);
    await Promise.race([exited, eventually(`redis-server answers PING on port ${this.port}`, () => answersPing(this.port), { intervalMs: 25 })]);
  }

  /** SIGSTOP/SIGCONT: a Redis that holds the connection open but stops answering. */
  pause(paused: boolean): void {
    this.#process?.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

