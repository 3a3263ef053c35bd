// One Postgres PEP between real clients and a real PostgreSQL cluster, deciding through a real
// PDP with the starter policy. Each test file starts its own stack and closes it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { loadPepPostgresConfig } from '@portcullis/pep-postgres/testing';
import { startPostgresPep, type RunningPostgresPep } from '@portcullis/pep-postgres';
import { CATALOG_APPLICATION_NAME } from '@portcullis/pep-postgres/testing';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { startTestPostgres, type TestPostgres } from '../support/postgres-server.ts';
import { loginNameOf } from './raw-client.ts';
import { eventually } from '../support/eventually.ts';

/** The role the PEP logs in as upstream; tests count its backends in pg_stat_activity. */
export const UPSTREAM_USER = 'portcullis_app';

export interface PsqlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface PepStack {
  readonly pg: TestPostgres;
  readonly pdp: TestPdp;
  readonly pep: RunningPostgresPep;
  readonly port: number;
  readonly logs: string[];
  /** The PEP's own login on the server (tests use it to set up tables as their owner). */
  readonly upstreamPassword: string;
  /** A caller's token from the PDP's dev issuer. */
  token(sub: string, roles: string[], kind?: 'agent' | 'human'): Promise<string>;
  /** A person's console session (approvers vote with it). */
  consoleToken(sub: string, roles: string[]): Promise<string>;
  /** The PEP's own credential: bound to the stack's resource alone. */
  readonly pepToken: string;
  /** psql through the PEP: `script` goes to stdin (psql -f -). */
  psql(token: string, script: string, args?: string[]): Promise<PsqlResult>;
  /** psql started through the PEP, for tests that signal it. */
  spawnPsql(token: string, args: string[]): ChildProcess;
  /** A connected node-postgres client through the PEP. */
  client(token: string, config?: pg.ClientConfig): Promise<pg.Client>;
  /** The PEP's sessions for clients on the real server right now (its catalog sessions aside). */
  upstreamBackends(): Promise<number>;
  /** Waits until the PEP holds no upstream session (bounded); resolves to the last count seen. */
  upstreamBackendsSettle(expected?: number): Promise<number>;
  close(): Promise<void>;
}

export interface PepStackOptions {
  /** The policy's resource: analytics-db (staging: writes allowed) or orders-db (production: writes need approval). */
  readonly resource?: 'analytics-db' | 'orders-db';
  readonly seed?: string;
  readonly pepEnv?: Record<string, string>;
  readonly pdpEnv?: Record<string, string>;
  /** What the PEP's credential is bound to (default: the stack's resource alone). */
  readonly pepResources?: readonly string[];
  /** Where the PEP reaches the PDP, given the PDP's own URL (a test may put a fault-injecting proxy in front). */
  readonly pdpUrlFor?: (pdpUrl: string) => Promise<string>;
}

export async function startPepStack(options: PepStackOptions = {}): Promise<PepStack> {
  const upstreamPassword = randomBytes(12).toString('hex');
  const postgres = await startTestPostgres({
    seed: `
      CREATE ROLE ${UPSTREAM_USER} LOGIN PASSWORD '${upstreamPassword}';
      GRANT CREATE ON SCHEMA public TO ${UPSTREAM_USER};
      SET ROLE ${UPSTREAM_USER};
      CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, qty int NOT NULL);
      INSERT INTO orders (item, qty) SELECT 'item-' || g, g FROM generate_series(1, 20) g;
      ${options.seed ?? ''}
    `,
  });
  let pdp: TestPdp | undefined;
  try {
    pdp = await startTestPdp(options.pdpEnv);
    const resourceName = options.resource ?? 'analytics-db';
    // As deployed: the PEP's credential fronts its one resource and nothing else.
    const pepToken = await pdp.pepTokenFor(options.pepResources ?? [resourceName], `pep-${resourceName}`);
    const logs: string[] = [];
    const env = {
      PORTCULLIS_PEP_LISTEN_PORT: '0',
      PORTCULLIS_PEP_UPSTREAM_PORT: String(postgres.port),
      PORTCULLIS_PEP_UPSTREAM_USER: UPSTREAM_USER,
      PORTCULLIS_PEP_UPSTREAM_PASSWORD: upstreamPassword,
      PORTCULLIS_PEP_PDP_URL: options.pdpUrlFor ? await options.pdpUrlFor(pdp.url) : pdp.url,
      PORTCULLIS_PEP_TOKEN: pepToken,
      PORTCULLIS_PEP_RESOURCE_NAME: resourceName,
      ...options.pepEnv,
    };
    const pep = await startPostgresPep(loadPepPostgresConfig(env), { env, log: (message) => logs.push(message) });
    const testPdp = pdp;
    const clients = new Set<pg.Client>();
    const stack: PepStack = {
      pg: postgres,
      pdp: testPdp,
      pep,
      port: pep.port,
      logs,
      upstreamPassword,
      token: (sub, roles, kind = 'agent') => testPdp.token({ sub, roles, kind }),
      consoleToken: (sub, roles) => testPdp.consoleToken({ sub, roles, kind: 'human' }),
      pepToken,
      psql: (token, script, args = []) =>
        new Promise((resolve) => {
          const child = execFile(
            join(postgres.binDir, 'psql'),
            ['-X', '-h', '127.0.0.1', '-p', String(pep.port), '-U', loginNameOf(token), '-d', 'analytics', ...args, '-f', '-'],
            { env: psqlEnv(token), timeout: 60_000 },
            (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
          );
          child.stdin!.end(script);
        }),
      spawnPsql: (token, args) =>
        spawn(join(postgres.binDir, 'psql'), ['-X', '-h', '127.0.0.1', '-p', String(pep.port), '-U', loginNameOf(token), '-d', 'analytics', ...args], {
          env: psqlEnv(token),
          stdio: ['pipe', 'pipe', 'pipe'],
        }),
      async client(token, config = {}) {
        const client = new pg.Client({ host: '127.0.0.1', port: pep.port, user: loginNameOf(token), database: 'analytics', password: token, ...config });
        client.on('error', () => undefined);
        await client.connect();
        clients.add(client);
        return client;
      },
      async upstreamBackends() {
        const sql = `SELECT count(*) FROM pg_stat_activity WHERE usename = '${UPSTREAM_USER}' AND application_name <> '${CATALOG_APPLICATION_NAME}'`;
        return Number((await postgres.sql(sql)).trim());
      },
      async upstreamBackendsSettle(expected = 0) {
        await eventually(`${expected} upstream sessions`, async () => (await stack.upstreamBackends()) === expected, { intervalMs: 100 });
        return stack.upstreamBackends();
      },
      async close() {
        for (const client of clients) await client.end().catch(() => undefined);
        await pep.close();
        // A test may have stopped the PDP already (outage tests).
        await testPdp.close().catch(() => undefined);
        await postgres.stop();
      },
    };
    return stack;
  } catch (error) {
    await pdp?.close();
    await postgres.stop();
    throw error;
  }
}

function psqlEnv(token: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, PGPASSWORD: token, PGCONNECT_TIMEOUT: '10', PGAPPNAME: 'psql-test', LC_ALL: 'C.UTF-8' };
}
