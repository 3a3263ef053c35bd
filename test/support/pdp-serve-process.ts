import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './repository-root.ts';

const CLI = join(REPOSITORY_ROOT, 'pdp/bin/portcullis.mjs');

export interface ServeProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code, or the signal's name. */
  readonly exited: Promise<string>;
  /** Everything it wrote to stderr so far (its log). */
  log(): string;
  /** Resolves with its URL once it logs that it listens; rejects if it exits first. */
  listening(timeoutMs?: number): Promise<string>;
}

/** `portcullis serve` as its own process, on a free port of 127.0.0.1. */
export function startServeProcess(env: NodeJS.ProcessEnv): ServeProcess {
  const child = spawn(process.execPath, [CLI, 'serve'], { cwd: REPOSITORY_ROOT, env: { ...process.env, PORTCULLIS_PORT: '0', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const listeners: Array<() => void> = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    log += chunk.toString();
    for (const listener of listeners) listener();
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))));
  return {
    child,
    exited,
    log: () => log,
    listening: (timeoutMs = 120_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening" line in ${timeoutMs} ms:\n${log}`)), timeoutMs);
        const check = (): void => {
          const match = /listening on (http:\/\/\S+)/.exec(log);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        };
        listeners.push(check);
        check();
        void exited.then((why) => {
          clearTimeout(timer);
          reject(new Error(`the PDP exited (${why}) before listening:\n${log}`));
        });
      }),
  };
}
