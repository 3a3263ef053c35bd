/**
 * A real PostgreSQL for the masking suites, from Debian's binaries: initdb into a temporary
 * folder, one server on 127.0.0.1 and a free port, trust authentication, stopped and removed
 * afterwards. initdb refuses to run as root, so as root the server runs as the `postgres` user.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  readonly port: number;
  /** A new connection as the superuser (the caller ends it). */
  client(): Promise<pg.Client>;
  stop(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL server binaries not found: apt-get install -y postgresql');
  return join(root, newest, 'bin');
}

function idOf(flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, 'postgres']).toString().trim());
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-masking-pg-'));
  // As root, the server runs as `postgres` itself (not under su/runuser, which would not pass
  // the stop signal on).
  const owner: { uid?: number; gid?: number } = userInfo().uid === 0 ? { uid: idOf('-u'), gid: idOf('-g') } : {};
  if (owner.uid !== undefined && owner.gid !== undefined) chownSync(dir, owner.uid, owner.gid);

  const data = join(dir, 'data');
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '-N'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: dir,
    ...owner,
  });

  const port = await freePort();
  const server: ChildProcess = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'shared_buffers=16MB'],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...owner },
  );
  let output = '';
  server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let running = true;
  const exited = new Promise<void>((resolve) => server.once('exit', () => ((running = false), resolve())));

  const client = async (): Promise<pg.Client> => {
    const connection = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await connection.connect();
    return connection;
  };
  const stop = async (): Promise<void> => {
    if (running) {
      server.kill('SIGINT'); // fast shutdown: clients are disconnected, no checkpoint wait
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  for (let attempt = 0; ; attempt += 1) {
    try {
      const probe = await client();
      await probe.end();
      break;
    } catch (error) {
      if (!running || attempt > 200) {
        await stop();
        throw new Error(`PostgreSQL did not start: ${output.slice(-2000)}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return { port, client, stop };
}
