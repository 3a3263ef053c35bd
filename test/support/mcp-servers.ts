// Real MCP servers from the npm registry for the gateway's suites and bench, each reached the way an
// MCP host reaches it:
//  - the reference filesystem server (@modelcontextprotocol/server-filesystem) over stdio, serving
//    throwaway folders; the gateway starts it, so this prepares the folders and the command line;
//  - the reference test server with every feature (@modelcontextprotocol/server-everything) over
//    Streamable HTTP, its listener fixed to 127.0.0.1 by a preload (listen-on-loopback.mjs says why);
//  - a database server that can write (mcp-postgres-server) over stdio, against a database of the
//    test PostgreSQL that this seeds and the suites read back with psql; and the reference Postgres
//    server (@modelcontextprotocol/server-postgres), whose read-only guard a COMMIT escapes.
// Readiness is always a real signal: the stdio initialize handshake, or the bound socket answering.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, type ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { TestPostgres } from './postgres-server.ts';

const require = createRequire(import.meta.url);
const LOOPBACK_PRELOAD = fileURLToPath(new URL('./listen-on-loopback.mjs', import.meta.url));

/** How to start a stdio MCP server: what the gateway's servers file names (`stdio: { command, args, env }`). */
export interface StdioServerLaunch {
  readonly command: string;
  readonly args: readonly string[];
  /** Only what the server needs: no NODE_OPTIONS of the test runner, no secrets of the test process. */
  readonly env: Readonly<Record<string, string>>;
}

/** The file a package's `bin` entry names, resolved in this workspace's node_modules. */
function packageBin(packageName: string, binName: string): string {
  const manifestPath = require.resolve(`${packageName}/package.json`);
  const manifest = require(manifestPath) as { bin: Record<string, string> };
  const bin = manifest.bin[binName];
  if (!bin) throw new Error(`${packageName} has no bin named ${binName}`);
  return join(dirname(manifestPath), bin);
}

/** The environment a server process gets: a PATH, nothing else unless named. */
function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...extra };
}

const CLIENT_INFO = { name: 'portcullis-test-client', version: '1.0.0' };

/** An SDK client connected over stdio to a server it starts; resolves once the initialize handshake is done. */
export async function connectStdioClient(launch: StdioServerLaunch, options?: ClientOptions): Promise<Client> {
  const transport = new StdioClientTransport({ command: launch.command, args: [...launch.args], env: { ...launch.env }, stderr: 'ignore' });
  const client = new Client(CLIENT_INFO, options);
  await client.connect(transport);
  return client;
}

/** An SDK client connected over Streamable HTTP; resolves once the initialize handshake is done. */
export async function connectHttpClient(url: string, options?: ClientOptions, headers?: Record<string, string>): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), headers ? { requestInit: { headers } } : undefined);
  const client = new Client(CLIENT_INFO, options);
  await client.connect(transport);
  return client;
}

// ---- the filesystem server (stdio) ----

export interface FilesystemServerFixture {
  /**
   * The folder writes may go to: /tmp/portcullis-mcp-fs-*, the root the starter pack's data gives
   * its filesystem servers (mcp_rules.servers.mcp-files.roots).
   */
  readonly workspace: string;
  /**
   * A second folder the server also serves (/tmp/portcullis-mcp-outside-*), outside policy's
   * roots: the server would write here, so a write refused here is provably the gateway's refusal,
   * not the server's own check.
   */
  readonly outside: string;
  /** The server's command line: both folders as its allowed directories. */
  readonly launch: StdioServerLaunch;
  /** Removes both folders. */
  remove(): void;
}

/**
 * Two throwaway folders (real paths, symlinks resolved), and the server's command line serving both.
 * They are made in /tmp whatever TMPDIR says: the starter pack's roots name /tmp/portcullis-mcp-fs-*.
 */
export function prepareFilesystemServer(): FilesystemServerFixture {
  const workspace = realpathSync(mkdtempSync('/tmp/portcullis-mcp-fs-'));
  const outside = realpathSync(mkdtempSync('/tmp/portcullis-mcp-outside-'));
  return {
    workspace,
    outside,
    launch: { command: process.execPath, args: [packageBin('@modelcontextprotocol/server-filesystem', 'mcp-server-filesystem'), workspace, outside], env: serverEnv() },
    remove() {
      rmSync(workspace, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    },
  };
}

// ---- the everything server (Streamable HTTP on 127.0.0.1) ----

export interface EverythingServer {
  /** The server's MCP endpoint, http://127.0.0.1:<port>/mcp. */
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** What the server printed lately (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the everything server in its Streamable HTTP mode on a port the kernel picks on 127.0.0.1.
 * Ready when the preload reports the bound socket and the endpoint answers an HTTP request.
 */
export async function startEverythingServer(): Promise<EverythingServer> {
  const bin = packageBin('@modelcontextprotocol/server-everything', 'mcp-server-everything');
  const child = spawn(process.execPath, ['--import', LOOPBACK_PRELOAD, bin, 'streamableHttp'], {
    env: serverEnv({ PORT: '0' }),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const { host, port } = await new Promise<{ host: string; port: number }>((resolve, reject) => {
      child.once('message', (message: { listening?: { host: string; port: number } }) => {
        if (message.listening) resolve(message.listening);
        else reject(new Error(`everything server: unexpected message ${JSON.stringify(message)}`));
      });
      child.once('exit', (code, signal) => reject(new Error(`everything server exited (${code ?? signal}) before listening:\n${tail}`)));
      child.once('error', reject);
    });
    if (host !== '127.0.0.1') throw new Error(`everything server bound ${host}, not 127.0.0.1`);
    child.channel?.unref();
    const url = `http://127.0.0.1:${port}/mcp`;
    // The endpoint itself answers: a GET without a session is refused with the server's JSON-RPC error.
    const probe = await fetch(url, { headers: { accept: 'text/event-stream' } });
    await probe.body?.cancel();
    if (probe.status !== 400) throw new Error(`everything server: GET ${url} answered ${probe.status}, expected 400 (no session)`);
    return { url, port, process: child, output: () => tail, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---- the database server (stdio, against the test PostgreSQL) ----

/** The seeded table: three orders; the suites count and sum them with psql to prove nothing changed. */
export const ORDERS_SEED = `
CREATE TABLE orders (id integer PRIMARY KEY, customer text NOT NULL, total numeric(10,2) NOT NULL);
INSERT INTO orders VALUES (1, 'ada', 12.50), (2, 'grace', 99.00), (3, 'linus', 7.25);
`;

export interface DatabaseServerFixture {
  readonly database: string;
  /** The role the server connects as: owner of the database, not a superuser. */
  readonly role: string;
  /** Its password (a suite may put another client, such as the Postgres PEP, in front of the same database). */
  readonly password: string;
  /**
   * The server with writes on (PG_ALLOW_WRITE=true): `execute` runs INSERT/UPDATE/DELETE/DDL; and
   * with `connect_db` on (PG_ENABLE_RUNTIME_CONNECT=true), which switches the server to credentials
   * the caller names: the tool policy data denies by name.
   */
  readonly launch: StdioServerLaunch;
  /** The same server read-only (its default): `query` runs inside BEGIN READ ONLY, `execute` refuses. */
  readonly readOnlyLaunch: StdioServerLaunch;
  /**
   * The reference Postgres server (@modelcontextprotocol/server-postgres): one `query` tool whose
   * only guard is running the text inside BEGIN TRANSACTION READ ONLY, which a `COMMIT;` at the
   * start of a multi-statement text ends. It declares no annotations.
   */
  readonly referenceLaunch: StdioServerLaunch;
  /** Runs SQL in the database as the superuser through psql (unaligned, tuples only). */
  sql(text: string): Promise<string>;
  /** The orders as `id|customer|total` lines, read with psql: the oracle for "rows unchanged". */
  orders(): Promise<string>;
}

/** Creates a database with the orders table and a role owning it, and the server's command lines. */
export async function prepareDatabaseServer(postgres: TestPostgres, name = 'shop'): Promise<DatabaseServerFixture> {
  const role = `${name}_mcp`;
  const password = randomBytes(12).toString('hex');
  await postgres.sql(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await postgres.sql(`CREATE DATABASE ${name} OWNER ${role}`);
  await postgres.sql(`${ORDERS_SEED} ALTER TABLE orders OWNER TO ${role};`, name);
  const bin = packageBin('mcp-postgres-server', 'mcp-postgres');
  const databaseUrl = `postgres://${role}:${password}@127.0.0.1:${postgres.port}/${name}?sslmode=disable`;
  const launch = (allowWrite: boolean): StdioServerLaunch => ({
    command: process.execPath,
    args: [bin],
    env: serverEnv({ DATABASE_URL: databaseUrl, PG_ALLOW_WRITE: String(allowWrite), PG_ENABLE_RUNTIME_CONNECT: String(allowWrite) }),
  });
  return {
    database: name,
    role,
    password,
    launch: launch(true),
    readOnlyLaunch: launch(false),
    // It takes the URL as its argument only (a test password in argv, on a loopback-only cluster).
    referenceLaunch: { command: process.execPath, args: [packageBin('@modelcontextprotocol/server-postgres', 'mcp-server-postgres'), databaseUrl], env: serverEnv() },
    sql: (text) => postgres.sql(text, name),
    orders: async () => (await postgres.sql('SELECT id, customer, total FROM orders ORDER BY id', name)).trim(),
  };
}
