import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startService, type Service } from './processes.ts';
import { acceptsConnections } from './tcp-probe.ts';

export interface PgbouncerOptions {
  /** Folder for its configuration and auth file (created). */
  readonly dir: string;
  readonly upstreamPort: number;
  readonly database: string;
  readonly user: string;
  /** The user's SCRAM verifier as pg_authid stores it: clients log in with SCRAM, and so does pgbouncer upstream. */
  readonly scramSecret: string;
  readonly poolMode: 'session' | 'transaction';
  /** Server connections per database/user pair: at least the number of clients, so none wait for one. */
  readonly poolSize: number;
}

export interface PgbouncerProcess extends Service {
  readonly port: number;
}

/** Debian's pgbouncer on 127.0.0.1 (not daemonized: its pid is the child's), auth_type scram-sha-256 with an auth_file. */
export async function startPgbouncer(options: PgbouncerOptions): Promise<PgbouncerProcess> {
  const port = await freePort();
  mkdirSync(options.dir, { recursive: true });
  const authFile = join(options.dir, 'userlist.txt');
  const configFile = join(options.dir, 'pgbouncer.ini');
  writeFileSync(authFile, `"${options.user}" "${options.scramSecret}"\n`, { mode: 0o600 });
  writeFileSync(configFile, [
    '[databases]',
    `${options.database} = host=127.0.0.1 port=${options.upstreamPort} dbname=${options.database}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${authFile}`,
    `pool_mode = ${options.poolMode}`,
    `default_pool_size = ${options.poolSize}`,
    'max_client_conn = 200',
    'server_tls_sslmode = disable',
    // Per-connection log lines would cost the baseline CPU the other targets do not pay.
    'log_connections = 0',
    'log_disconnections = 0',
    'log_pooler_errors = 1',
    '',
  ].join('\n'));
  // pgbouncer refuses to run as root: as root it drops to Debian's postgres user itself (-u), keeping its pid.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = postgresUser();
    for (const path of [options.dir, authFile, configFile]) chownSync(path, uid, gid);
  }
  const service = await startService('pgbouncer', pgbouncerBinary(), [...(asRoot ? ['-u', 'postgres'] : []), configFile], process.env, () => acceptsConnections(port), 30_000);
  return { ...service, port };
}

export function pgbouncerBinary(): string {
  for (const candidate of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer']) if (existsSync(candidate)) return candidate;
  return 'pgbouncer';
}

export function pgbouncerVersion(): string {
  return /PgBouncer (\S+)/.exec(execFileSync(pgbouncerBinary(), ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
}

function postgresUser(): { uid: number; gid: number } {
  const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()));
  return { uid: uid!, gid: gid! };
}
