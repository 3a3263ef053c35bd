import { spawn } from 'node:child_process';

export interface PgbenchTarget {
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** Given through PGPASSWORD, never on the command line (ps would show it). */
  readonly password: string;
}

export interface PgbenchLoad {
  readonly clients: number;
  readonly threads: number;
  readonly seconds: number;
  /** Seconds between progress lines (pgbench -P); 0 for none. */
  readonly progressSeconds: number;
  /** simple: one Query message per statement; prepared: Parse once per connection, then Bind/Execute. */
  readonly queryMode: 'simple' | 'prepared';
  /** A fixed rate of transactions per second over all clients (pgbench -R, Poisson-spaced); default as fast as they go. */
  readonly ratePerSecond?: number;
}

export interface PgbenchResult {
  readonly tps: number;
  readonly latencyAverageMs: number;
  readonly transactions: number;
  readonly failedTransactions: number;
  readonly initialConnectionMs: number;
}

/**
 * Runs pgbench's built-in select-only script (-S) against one target on
 * 127.0.0.1 and parses its summary. Progress lines go to `onProgress` as they come. The run is
 * bounded by -T and, should pgbench hang, killed a minute past its duration.
 */
export function runPgbenchSelectOnly(pgbench: string, target: PgbenchTarget, load: PgbenchLoad, onProgress: (line: string) => void): Promise<PgbenchResult> {
  const args = [
    '-n', '-S', '-M', load.queryMode,
    '-c', String(load.clients), '-j', String(load.threads), '-T', String(load.seconds),
    ...(load.progressSeconds > 0 ? ['-P', String(load.progressSeconds)] : []),
    ...(load.ratePerSecond === undefined ? [] : ['-R', String(Math.max(1, Math.round(load.ratePerSecond)))]),
    '-h', '127.0.0.1', '-p', String(target.port), '-U', target.user, target.database,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(pgbench, args, {
      env: { PATH: process.env.PATH, PGPASSWORD: target.password, PGCONNECT_TIMEOUT: '10', LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr = (stderr + text).slice(-8000);
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line.startsWith('progress:')) onProgress(line);
    });
    const watchdog = setTimeout(() => child.kill('SIGKILL'), (load.seconds + 60) * 1000);
    child.once('error', (error) => {
      clearTimeout(watchdog);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(watchdog);
      if (code !== 0) {
        reject(new Error(`pgbench on port ${target.port} ended with ${signal ?? `exit code ${code}`}:\n${stderr.trim()}\n${stdout.trim()}`));
        return;
      }
      try {
        resolve(parsePgbenchSummary(stdout));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** The figures of pgbench's closing summary (PostgreSQL 15 wording). */
export function parsePgbenchSummary(output: string): PgbenchResult {
  const optional = (pattern: RegExp): number | undefined => {
    const match = pattern.exec(output);
    return match ? Number(match[1]) : undefined;
  };
  const required = (pattern: RegExp, what: string): number => optional(pattern) ?? fail(`pgbench's summary has no ${what}:\n${output}`);
  return {
    tps: required(/^tps = ([\d.]+)/m, 'tps'),
    latencyAverageMs: required(/^latency average = ([\d.]+) ms/m, 'average latency'),
    transactions: required(/^number of transactions actually processed: (\d+)/m, 'transaction count'),
    // pgbench before 15 prints no failure line: it counted none.
    failedTransactions: optional(/^number of failed transactions: (\d+)/m) ?? 0,
    initialConnectionMs: optional(/^initial connection time = ([\d.]+) ms/m) ?? Number.NaN,
  };
}

function fail(message: string): never {
  throw new Error(message);
}
