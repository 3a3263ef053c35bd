// The real MCP servers the gateway's suites stand in front of, reached directly with the SDK client:
// each starts, answers, and does what the suites later rely on (the filesystem server writes where
// the gateway must stop it, the everything server listens on loopback only, the database server
// writes rows that psql reads back).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  connectHttpClient,
  connectStdioClient,
  type DatabaseServerFixture,
  type EverythingServer,
  type FilesystemServerFixture,
  prepareDatabaseServer,
  prepareFilesystemServer,
  startEverythingServer,
} from './mcp-servers.ts';
import { startTestPostgres, type TestPostgres } from './postgres-server.ts';

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  const content = result.content as { type: string; text?: string }[];
  return content.map((part) => part.text ?? '').join('');
}

describe('the filesystem server over stdio', () => {
  let fixture: FilesystemServerFixture;
  let client: Client;
  before(async () => {
    fixture = prepareFilesystemServer();
    client = await connectStdioClient(fixture.launch);
  });
  after(async () => {
    await client?.close();
    fixture?.remove();
  });

  test('lists its tools with the annotations policy reads', async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    assert.equal(byName.get('read_text_file')?.annotations?.readOnlyHint, true);
    assert.equal(byName.get('write_file')?.annotations?.destructiveHint, true);
  });

  test('reads a file, and writes one in either folder it serves, the one outside policy\'s roots included', async () => {
    writeFileSync(join(fixture.workspace, 'notes.txt'), 'hello from the disk\n');
    assert.equal(text(await client.callTool({ name: 'read_text_file', arguments: { path: join(fixture.workspace, 'notes.txt') } })), 'hello from the disk\n');
    const written = join(fixture.outside, 'reached.txt');
    const result = await client.callTool({ name: 'write_file', arguments: { path: written, content: 'the server itself lets this through' } });
    assert.notEqual(result.isError, true, text(result));
    assert.equal(readFileSync(written, 'utf8'), 'the server itself lets this through');
  });

  test('refuses a path outside the folders it serves on its own', async () => {
    const result = await client.callTool({ name: 'read_text_file', arguments: { path: '/etc/hostname' } });
    assert.equal(result.isError, true);
    assert.match(text(result), /outside allowed directories/i);
  });
});

describe('the everything server over Streamable HTTP', () => {
  let server: EverythingServer;
  let client: Client;
  before(async () => {
    server = await startEverythingServer();
    client = await connectHttpClient(server.url);
  });
  after(async () => {
    await client?.close();
    await server?.stop();
  });

  test('echoes, and returns structured content', async () => {
    assert.equal(text(await client.callTool({ name: 'echo', arguments: { message: 'ping' } })), 'Echo: ping');
    const structured = await client.callTool({ name: 'get-structured-content', arguments: { location: 'New York' } });
    const content = structured.structuredContent as Record<string, unknown> | undefined;
    assert.equal(typeof content?.temperature, 'number', JSON.stringify(structured));
  });

  test('serves resources and prompts', async () => {
    const { resources } = await client.listResources();
    assert.ok(resources.length > 0);
    const read = await client.readResource({ uri: resources[0]!.uri });
    assert.equal(read.contents[0]?.uri, resources[0]!.uri);
    const prompt = await client.getPrompt({ name: 'simple-prompt' });
    assert.ok(prompt.messages.length > 0);
  });

  test('listens on 127.0.0.1 only: other loopback and local addresses refuse the connection', async () => {
    // 127.0.0.2 and ::1 always exist on Linux and answer a socket bound to every interface.
    const external = Object.values(networkInterfaces()).flat().filter((address) => address && !address.internal && address.family === 'IPv4').map((address) => address!.address);
    for (const host of ['127.0.0.2', '[::1]', ...external]) {
      const outcome = await fetch(`http://${host}:${server.port}/mcp`, { signal: AbortSignal.timeout(2000) }).then(
        (response) => `answered ${response.status}`,
        (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
      );
      assert.equal(outcome, 'ECONNREFUSED', `${host}:${server.port}`);
    }
  });
});

describe('the database server over stdio against the test PostgreSQL', () => {
  let postgres: TestPostgres;
  let fixture: DatabaseServerFixture;
  before(async () => {
    postgres = await startTestPostgres();
    fixture = await prepareDatabaseServer(postgres);
  });
  after(async () => {
    await postgres?.stop();
  });

  test('with writes on, execute changes the rows psql reads back, and query reads them', async () => {
    const client = await connectStdioClient(fixture.launch);
    try {
      const { tools } = await client.listTools();
      assert.equal(tools.find((tool) => tool.name === 'execute')?.annotations?.destructiveHint, true);
      const result = await client.callTool({ name: 'execute', arguments: { sql: "UPDATE orders SET total = 13.00 WHERE customer = 'ada'" } });
      assert.notEqual(result.isError, true, text(result));
      assert.match(await fixture.orders(), /^1\|ada\|13\.00$/m);
      const read = JSON.parse(text(await client.callTool({ name: 'query', arguments: { sql: 'SELECT count(*)::int AS n FROM orders' } }))) as { rows: { n: number }[] };
      assert.deepEqual(read.rows, [{ n: 3 }]);
    } finally {
      await client.close();
    }
  });

  test('read-only, its query tool is marked read-only and execute refuses without touching a row', async () => {
    const before = await fixture.orders();
    const client = await connectStdioClient(fixture.readOnlyLaunch);
    try {
      const { tools } = await client.listTools();
      assert.equal(tools.find((tool) => tool.name === 'query')?.annotations?.readOnlyHint, true);
      const result = await client.callTool({ name: 'execute', arguments: { sql: 'DELETE FROM orders' } });
      assert.equal(result.isError, true, text(result));
    } finally {
      await client.close();
    }
    assert.equal(await fixture.orders(), before);
  });
});
