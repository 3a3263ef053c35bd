import { spawn, type ChildProcess } from 'node:child_process';

export interface Service {
  readonly name: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a process, keeps its last output for error messages, and waits until `ready` answers. */
export async function startService(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<Service> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${tail}`);
    if (await ready().catch(() => false)) {
      return {
        name,
        process: child,
        stop: () => new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not become ready in ${timeoutMs} ms:\n${tail}`);
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Node options for one process, as command-line flags before its script: NODE_OPTIONS refuses
 * some (--cpu-prof), the command line takes them all.
 */
export function nodeFlags(options: string | undefined): string[] {
  return options?.split(/\s+/).filter(Boolean) ?? [];
}
