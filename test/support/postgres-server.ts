// Real throwaway PostgreSQL clusters for tests: initdb'd on a free port on 127.0.0.1 by
// scripts/components.sh (so the cluster's configuration lives in one place), seeded with SQL run
// through the real psql, stopped and removed at the end.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPONENTS = join(REPO_ROOT, 'scripts/components.sh');

export interface TestPostgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly dataDir: string;
  /** The folder with psql, pgbench, initdb, pg_ctl. */
  readonly binDir: string;
  readonly superuser: 'postgres';
  readonly superuserPassword: string;
  /** Runs SQL as the superuser through psql (ON_ERROR_STOP, unaligned, tuples only); resolves to stdout. */
  sql(text: string, database?: string): Promise<string>;
  /** Stops the cluster (fast shutdown) and removes its folder. */
  stop(): Promise<void>;
}

export interface TestPostgresOptions {
  /** SQL run as the superuser once the cluster is up. */
  readonly seed?: string;
}

/** Starts a cluster; a port taken between picking and binding is picked again. */
export async function startTestPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-pg-'));
  const superuserPassword = randomBytes(12).toString('hex');
  const env = { ...process.env, PORTCULLIS_POSTGRES_PASSWORD: superuserPassword };
  const binDir = (await run('bash', [COMPONENTS, 'path', 'pg-bin'], env)).trim();
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await run('bash', [COMPONENTS, 'start', 'postgres', '--dir', dataDir, '--port', String(port)], env);
      break;
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dataDir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  let stopped = false;
  const cluster: TestPostgres = {
    host: '127.0.0.1',
    port,
    dataDir,
    binDir,
    superuser: 'postgres',
    superuserPassword,
    sql: (text, database = 'postgres') =>
      run(
        join(binDir, 'psql'),
        ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-c', text],
        { ...process.env, PGPASSWORD: superuserPassword, PGCONNECT_TIMEOUT: '10' },
      ),
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await run('bash', [COMPONENTS, 'stop', 'postgres', '--dir', dataDir], env);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
  if (options.seed) {
    try {
      await cluster.sql(options.seed);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }
  return cluster;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.slice(0, 3).join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
