// A database MCP server from the npm registry (mcp-postgres-server, over stdio, writes on) behind the
// gateway, against a real PostgreSQL, with the official SDK client as the agent and the starter
// pack deciding (resource mcp-db, whose SQL meets the rules of the Postgres resource analytics-db).
// The Postgres PEP fronts the same database as analytics-db, deciding through the same PDP: the same
// statement by the same principal must meet the same rule both ways. psql, as the superuser, is the
// oracle for "rows unchanged".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import pg from 'pg';
import { startPostgresPep, type RunningPostgresPep } from '@portcullis/pep-postgres';
import { loadPepPostgresConfig } from '@portcullis/pep-postgres/testing';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { connectStdioClient, type DatabaseServerFixture, prepareDatabaseServer } from '../support/mcp-servers.ts';
import { startTestPostgres, type TestPostgres } from '../support/postgres-server.ts';
import { starterPackWith, type PolicyVariant } from './starter-pack-variant.ts';
import { callText } from './tool-results.ts';
import { auditBodyOf } from '@portcullis/pdp';

const SERVER = 'mcp-db';
// The reference Postgres server on the same database, as one more resource judged as analytics-db.
const REFERENCE = 'mcp-db-reference';
const DATABASE_RESOURCE = 'analytics-db';

let postgres: TestPostgres;
let policy: PolicyVariant;
let db: DatabaseServerFixture;
let gateway: McpGateway;
let postgresPep: RunningPostgresPep;
let reader: Client;
let writer: Client;
let readerToken: string;
let writerToken: string;
let seeded: string;

before(async () => {
  postgres = await startTestPostgres();
  db = await prepareDatabaseServer(postgres, 'analytics');
  seeded = await db.orders();
  // A table the starter pack names sensitive columns of (users.email, users.phone).
  await db.sql(`CREATE TABLE users (id integer PRIMARY KEY, name text, email text, phone text);
    INSERT INTO users VALUES (1, 'Ada', 'ada@example.com', '+44 20 7946 0018'), (2, 'Grace', 'grace@example.org', '+1 212 555 0142');
    ALTER TABLE users OWNER TO ${db.role}`);
  policy = starterPackWith({
    [REFERENCE]: { environment: 'staging', rules: { database: DATABASE_RESOURCE }, toolArguments: { query: { sql: 'sql' } } },
  });
  gateway = await startMcpGateway({
    servers: [
      { name: SERVER, environment: 'staging', stdio: db.launch },
      { name: REFERENCE, environment: 'staging', stdio: db.referenceLaunch },
    ],
    pdpEnv: { PORTCULLIS_POLICY_DIR: policy.dir },
  });
  const env = {
    PORTCULLIS_PEP_LISTEN_PORT: '0',
    PORTCULLIS_PEP_UPSTREAM_PORT: String(postgres.port),
    PORTCULLIS_PEP_UPSTREAM_DATABASE: db.database,
    PORTCULLIS_PEP_UPSTREAM_USER: db.role,
    PORTCULLIS_PEP_UPSTREAM_PASSWORD: db.password,
    PORTCULLIS_PEP_PDP_URL: gateway.pdp.url,
    PORTCULLIS_PEP_TOKEN: await gateway.pdp.pepTokenFor([DATABASE_RESOURCE], 'pep-analytics-db'),
    PORTCULLIS_PEP_RESOURCE_NAME: DATABASE_RESOURCE,
  };
  postgresPep = await startPostgresPep(loadPepPostgresConfig(env), { env, log: () => undefined });
  readerToken = await gateway.token('rene-reader', ['reader']);
  reader = await gateway.connect(SERVER, readerToken);
  writerToken = await gateway.token('wanda-writer', ['writer']);
  writer = await gateway.connect(SERVER, writerToken);
});
after(async () => {
  await postgresPep?.close();
  await gateway?.close();
  await postgres?.stop();
  policy?.remove();
});

/** The statement through the Postgres PEP as the token's principal: its rows, or the error PostgreSQL's client shows. */
async function viaPostgresPep(token: string, sql: string): Promise<{ rows: unknown[] } | { error: string }> {
  const sub = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).sub as string;
  const client = new pg.Client({ host: '127.0.0.1', port: postgresPep.port, user: sub, password: token, database: db.database });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return { rows: (await client.query(sql)).rows };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await client.end();
  }
}

/** The error the Postgres PEP answered, or null when the statement ran. */
async function throughPostgresPep(token: string, sql: string): Promise<string | null> {
  const outcome = await viaPostgresPep(token, sql);
  return 'error' in outcome ? outcome.error : null;
}

/** `code: message` of the reason a refusal names, whichever PEP wrote it. */
function reasonOf(text: string): string {
  const match = /denied by policy \(([a-z0-9-]+: [^[]*?)\)(?: \[|$)/.exec(text) ?? /(sql-[a-z0-9-]+: [^\n[]*)/.exec(text);
  assert.ok(match, `no policy reason in: ${text}`);
  return match[1]!.trim();
}

function rows(result: Awaited<ReturnType<Client['callTool']>>): unknown[] {
  assert.notEqual(result.isError, true, callText(result));
  return (JSON.parse(callText(result)) as { rows: unknown[] }).rows;
}

describe('tool lists', () => {
  test('the SQL tools stay listed for a reader (their statements decide), the schema tools too', async () => {
    const names = (await reader.listTools()).tools.map((tool) => tool.name);
    for (const name of ['query', 'execute', 'list_tables', 'describe_table']) assert.ok(names.includes(name), `${name} listed: ${names.join(', ')}`);
  });
});

describe('a tool data denies by name', () => {
  test('connect_db (it switches the server to credentials the caller names) is hidden from every principal, refused when called, and its password on no record', async () => {
    const direct = await connectStdioClient(db.launch);
    try {
      assert.ok((await direct.listTools()).tools.some((tool) => tool.name === 'connect_db'), 'the server offers connect_db');
    } finally {
      await direct.close();
    }
    const admin = await gateway.connect(SERVER, await gateway.pdp.token({ sub: 'dina-dba', roles: ['writer', 'dba'], kind: 'human' }));
    for (const client of [reader, writer, admin]) assert.ok(!(await client.listTools()).tools.some((tool) => tool.name === 'connect_db'));
    // A session that never listed the tools asks for it by name: decided, and denied.
    const unlisted = await gateway.connect(SERVER, writerToken);
    const result = await unlisted.callTool({ name: 'connect_db', arguments: { host: '127.0.0.1', port: postgres.port, user: postgres.superuser, password: postgres.superuserPassword, database: 'postgres' } });
    assert.equal(result.isError, true);
    assert.match(callText(result), /mcp-tool-denied: the tool connect_db of mcp-db is not offered/);
    assert.deepEqual(rows(await unlisted.callTool({ name: 'query', arguments: { sql: 'SELECT current_user AS who' } })), [{ who: db.role }], 'the server still connects as its own role');
    // The call is on the record, the password it named is not, on any record.
    const records = [...(await gateway.pdp.auditEvents('decisions')), ...(await gateway.pdp.auditEvents('sessions'))];
    const record = records.find((candidate) => JSON.stringify(candidate).includes('"mcp-tool-denied"'));
    const decision = auditBodyOf(record) as { action: { tool: string; arguments: Record<string, unknown> }; redacted: string[] } | undefined;
    assert.equal(decision?.action.tool, 'connect_db');
    assert.equal(decision.action.arguments.user, 'postgres');
    assert.ok(decision.redacted.includes('action.arguments.password'));
    assert.deepEqual(records.filter((record) => JSON.stringify(record).includes(postgres.superuserPassword)), []);
    await gateway.disconnect(admin);
    await gateway.disconnect(unlisted);
  });
});

describe('SQL judged by the SQL rules', () => {
  test('a reader reads rows through query', async () => {
    assert.deepEqual(rows(await reader.callTool({ name: 'query', arguments: { sql: 'SELECT id, customer FROM orders ORDER BY id' } })), [
      { id: 1, customer: 'ada' },
      { id: 2, customer: 'grace' },
      { id: 3, customer: 'linus' },
    ]);
  });

  test('sensitive columns come back masked through query exactly as through the Postgres PEP', async () => {
    const sql = 'SELECT id, name, email, phone FROM users ORDER BY id';
    const viaMcp = rows(await reader.callTool({ name: 'query', arguments: { sql } }));
    const viaPep = await viaPostgresPep(readerToken, sql);
    assert.ok('rows' in viaPep, JSON.stringify(viaPep));
    assert.deepEqual(viaMcp, viaPep.rows);
    for (const clear of ['ada@example.com', 'grace@example.org', '7946 0018']) assert.ok(!JSON.stringify(viaMcp).includes(clear), `${clear} came back in clear`);
  });

  test("a reader's UPDATE through execute is denied with policy's reason; the rows are unchanged", async () => {
    const result = await reader.callTool({ name: 'execute', arguments: { sql: "UPDATE orders SET total = 0 WHERE customer = 'ada'" } });
    assert.equal(result.isError, true);
    assert.match(callText(result), /insufficient-role: no role of the principal grants write access on analytics-db/);
    assert.equal(await db.orders(), seeded);
  });

  test("a write hidden behind a read in one query is seen: a reader's SELECT; DELETE is denied, rows unchanged", async () => {
    const result = await reader.callTool({ name: 'query', arguments: { sql: 'SELECT 1; DELETE FROM orders WHERE id = 1' } });
    assert.equal(result.isError, true);
    assert.match(callText(result), /denied by policy/);
    assert.equal(await db.orders(), seeded);
  });

  test('DELETE without WHERE: denied for the writer through the MCP tool and through the Postgres PEP, for the same reason', async () => {
    const sql = 'DELETE FROM orders';
    const viaMcp = await writer.callTool({ name: 'execute', arguments: { sql } });
    assert.equal(viaMcp.isError, true);
    const viaPostgresPep = await throughPostgresPep(writerToken, sql);
    assert.ok(viaPostgresPep !== null, 'the Postgres PEP let the DELETE run');
    assert.equal(reasonOf(callText(viaMcp)), reasonOf(viaPostgresPep));
    assert.match(reasonOf(callText(viaMcp)), /^sql-delete-without-where: DELETE without WHERE would touch every row of orders/);
    assert.equal(await db.orders(), seeded);
  });

  test("COMMIT; DELETE (a server's read-only transaction escaped) is judged on the DELETE: denied, rows unchanged", async () => {
    const result = await writer.callTool({ name: 'query', arguments: { sql: 'COMMIT; DELETE FROM orders' } });
    assert.equal(result.isError, true);
    assert.match(callText(result), /sql-delete-without-where/);
    assert.equal(await db.orders(), seeded);
  });

  test("the writer's UPDATE with WHERE runs: allowed both ways, and psql sees the change", async () => {
    const result = await writer.callTool({ name: 'execute', arguments: { sql: "UPDATE orders SET total = 100.00 WHERE customer = 'grace'" } });
    assert.notEqual(result.isError, true, callText(result));
    assert.match(await db.orders(), /^2\|grace\|100\.00$/m);
    assert.equal(await throughPostgresPep(writerToken, "UPDATE orders SET total = 99.00 WHERE customer = 'grace'"), null);
    assert.equal(await db.orders(), seeded);
  });

  test('DDL: an agent, even with admin access on the database, is denied; a person with it runs the statement', async () => {
    const sql = 'ALTER TABLE orders ADD COLUMN note text';
    const agent = await gateway.connect(SERVER, await gateway.pdp.token({ sub: 'dora-dba-agent', roles: ['reader', 'dba'], kind: 'agent' }));
    const denied = await agent.callTool({ name: 'execute', arguments: { sql } });
    assert.equal(denied.isError, true);
    assert.match(callText(denied), /sql-privileged-statement-by-agent/);
    assert.equal(await db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'"), '0\n');
    const person = await gateway.connect(SERVER, await gateway.pdp.token({ sub: 'dana-dba', roles: ['reader', 'dba'], kind: 'human' }));
    const allowed = await person.callTool({ name: 'execute', arguments: { sql } });
    assert.notEqual(allowed.isError, true, callText(allowed));
    assert.equal(await db.sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'"), '1\n');
    await gateway.disconnect(agent);
    await gateway.disconnect(person);
  });
});

describe("the reference Postgres server, whose read-only guard a COMMIT escapes", () => {
  test('directly, COMMIT; DELETE through its read-only query tool deletes rows', async () => {
    await db.sql(`CREATE TABLE guard_demo (id integer); INSERT INTO guard_demo VALUES (1), (2); ALTER TABLE guard_demo OWNER TO ${db.role}`);
    const client = await connectStdioClient(db.referenceLaunch);
    try {
      // Its answer to a text of two statements carries no rows (the SDK client refuses it as
      // malformed); the DELETE has run all the same, as psql shows.
      await client.callTool({ name: 'query', arguments: { sql: 'COMMIT; DELETE FROM guard_demo' } }).catch(() => undefined);
    } finally {
      await client.close();
    }
    assert.equal(await db.sql('SELECT count(*) FROM guard_demo'), '0\n', "the server's READ ONLY transaction did not stop the DELETE");
  });

  test('through the gateway the same text is judged on its DELETE: denied for the writer and the reader, rows unchanged', async () => {
    const writerClient = await gateway.connect(REFERENCE, writerToken);
    const asWriter = await writerClient.callTool({ name: 'query', arguments: { sql: 'COMMIT; DELETE FROM orders' } });
    assert.equal(asWriter.isError, true);
    assert.match(callText(asWriter), /sql-delete-without-where/);
    const readerClient = await gateway.connect(REFERENCE, await gateway.token('rory-reader', ['reader']));
    const asReader = await readerClient.callTool({ name: 'query', arguments: { sql: 'COMMIT; DELETE FROM orders WHERE id = 1' } });
    assert.equal(asReader.isError, true);
    assert.match(callText(asReader), /insufficient-role: no role of the principal grants write access on analytics-db/);
    assert.equal(await db.orders(), seeded);
    await gateway.disconnect(writerClient);
    await gateway.disconnect(readerClient);
  });
});
