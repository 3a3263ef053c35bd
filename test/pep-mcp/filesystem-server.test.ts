// The reference filesystem server (@modelcontextprotocol/server-filesystem, over stdio) behind the
// gateway, with the official SDK client as the agent and the starter pack deciding (resource
// mcp-files, staging). The server serves two folders: the workspace, under the root policy data
// gives mcp-files, and a folder outside it that the server itself would write to. So every refusal
// below is the gateway's, and the disk shows that nothing reached the server.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { eventually } from '../support/eventually.ts';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { type FilesystemServerFixture, prepareFilesystemServer } from '../support/mcp-servers.ts';
import { callText, rejection } from './tool-results.ts';

const SERVER = 'mcp-files';
// What a reader may not call on this server: every tool it does not mark read-only.
const WRITE_TOOLS = ['create_directory', 'edit_file', 'move_file', 'write_file'];

let files: FilesystemServerFixture;
let gateway: McpGateway;
let reader: Client;
let writer: Client;

before(async () => {
  files = prepareFilesystemServer();
  writeFileSync(join(files.workspace, 'notes.txt'), 'notes kept in the workspace\n');
  gateway = await startMcpGateway({ servers: [{ name: SERVER, environment: 'staging', stdio: files.launch }] });
  reader = await gateway.connect(SERVER, await gateway.token('rita-reader', ['reader']));
  writer = await gateway.connect(SERVER, await gateway.token('walt-writer', ['writer']));
});
after(async () => {
  await gateway?.close();
  files?.remove();
});

/** Both folders' files, relative names: what the server side holds. */
function disk(): string[] {
  const list = (folder: string): string[] => readdirSync(folder, { recursive: true, encoding: 'utf8' }).map((name) => join(basename(folder), name));
  return [...list(files.workspace), ...list(files.outside)].sort();
}

describe('tool lists per principal', () => {
  test("a reader's list holds the read-only tools only; a writer's holds them all", async () => {
    const readerTools = (await reader.listTools()).tools.map((tool) => tool.name);
    const writerTools = (await writer.listTools()).tools.map((tool) => tool.name);
    for (const name of WRITE_TOOLS) {
      assert.ok(!readerTools.includes(name), `${name} is hidden from the reader`);
      assert.ok(writerTools.includes(name), `${name} is listed for the writer`);
    }
    for (const name of ['read_text_file', 'list_directory', 'search_files', 'get_file_info']) assert.ok(readerTools.includes(name), `${name} is listed for the reader`);
  });

  test('a tool hidden from the reader cannot be called by it either: unknown tool, no file', async () => {
    await reader.listTools();
    const target = join(files.workspace, 'by-reader.txt');
    const error = await rejection(reader.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } }));
    assert.equal(error.code, -32602);
    assert.match(error.message, /unknown tool: "write_file"/);
    assert.equal(existsSync(target), false);
  });
});

describe('calls allowed', () => {
  test('a reader reads a file in the workspace and lists it', async () => {
    const read = await reader.callTool({ name: 'read_text_file', arguments: { path: join(files.workspace, 'notes.txt') } });
    assert.equal(callText(read), 'notes kept in the workspace\n');
    assert.match(callText(await reader.callTool({ name: 'list_directory', arguments: { path: files.workspace } })), /\[FILE\] notes\.txt/);
  });

  test('a writer writes, edits and makes folders in the workspace: the disk has them', async () => {
    const target = join(files.workspace, 'plan.txt');
    assert.match(callText(await writer.callTool({ name: 'write_file', arguments: { path: target, content: 'step one\n' } })), /Successfully wrote/);
    await writer.callTool({ name: 'edit_file', arguments: { path: target, edits: [{ oldText: 'one', newText: 'two' }] } });
    assert.equal(readFileSync(target, 'utf8'), 'step two\n');
    await writer.callTool({ name: 'create_directory', arguments: { path: join(files.workspace, 'drafts', 'later') } });
    assert.ok(existsSync(join(files.workspace, 'drafts', 'later')));
  });
});

describe('calls denied leave no trace on the server side', () => {
  test("a reader's write, before any listing, is denied with policy's reason; nothing is written", async () => {
    const client = await gateway.connect(SERVER, await gateway.token('rosa-reader', ['reader']));
    const before = disk();
    const target = join(files.workspace, 'by-reader.txt');
    const result = await client.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } });
    assert.equal(result.isError, true);
    assert.match(callText(result), /denied by policy/);
    assert.match(callText(result), /insufficient-role: no role of the principal grants write access on mcp-files/);
    assert.deepEqual(disk(), before);
    await gateway.disconnect(client);
  });

  test("a writer's write outside the roots is denied, though the server serves that folder", async () => {
    const before = disk();
    const target = join(files.outside, 'escaped.txt');
    const result = await writer.callTool({ name: 'write_file', arguments: { path: target, content: 'should not land' } });
    assert.equal(result.isError, true);
    assert.match(callText(result), new RegExp(`mcp-write-outside-roots: write_file would write ${target}, outside the roots of ${SERVER}`));
    assert.deepEqual(disk(), before);
  });

  test("a read outside the roots is denied too, though the server serves that folder; several paths are judged each", async () => {
    writeFileSync(join(files.outside, 'private.txt'), 'not for agents\n');
    const single = await reader.callTool({ name: 'read_text_file', arguments: { path: join(files.outside, 'private.txt') } });
    assert.equal(single.isError, true);
    assert.match(callText(single), new RegExp(`mcp-read-outside-roots: read_text_file would read ${join(files.outside, 'private.txt')}, outside the roots of ${SERVER}`));
    const several = await reader.callTool({ name: 'read_multiple_files', arguments: { paths: [join(files.workspace, 'notes.txt'), join(files.outside, 'private.txt')] } });
    assert.equal(several.isError, true);
    assert.match(callText(several), /mcp-read-outside-roots/);
    assert.doesNotMatch(callText(several), /not for agents|notes kept/);
  });

  test('a move whose destination is outside the roots is denied: both files stay as they were', async () => {
    writeFileSync(join(files.workspace, 'keep.txt'), 'kept\n');
    const before = disk();
    const result = await writer.callTool({ name: 'move_file', arguments: { source: join(files.workspace, 'keep.txt'), destination: join(files.outside, 'keep.txt') } });
    assert.equal(result.isError, true);
    assert.match(callText(result), /mcp-write-outside-roots/);
    assert.deepEqual(disk(), before);
    assert.equal(readFileSync(join(files.workspace, 'keep.txt'), 'utf8'), 'kept\n');
  });
});

describe('path tricks', () => {
  test('a path with .. is refused as unreadable, whether it leads out of the workspace or stays in it', async () => {
    // Where .. leads depends on links on the server's host, which the PDP cannot see.
    const before = disk();
    for (const path of [`${files.workspace}/../${basename(files.outside)}/dotdot.txt`, `${files.workspace}/drafts/../dotdot.txt`]) {
      const result = await writer.callTool({ name: 'write_file', arguments: { path, content: 'x' } });
      assert.equal(result.isError, true, path);
      assert.match(callText(result), /mcp-argument-unreadable: the argument path cannot be judged: .*has a \.\. segment/, path);
    }
    assert.deepEqual(disk(), before);
  });

  test('a relative path, which the server would resolve its own way, is refused as unreadable', async () => {
    const before = disk();
    for (const path of ['relative.txt', `../${basename(files.outside)}/relative.txt`]) {
      const result = await writer.callTool({ name: 'write_file', arguments: { path, content: 'x' } });
      assert.equal(result.isError, true, path);
      assert.match(callText(result), /mcp-argument-unreadable: the argument path cannot be judged/, path);
    }
    assert.deepEqual(disk(), before);
  });

  test('a path through /proc/self/root is refused, though it names the outside folder from /', async () => {
    const before = disk();
    const result = await writer.callTool({ name: 'write_file', arguments: { path: `/proc/self/root${files.outside}/proc.txt`, content: 'x' } });
    assert.equal(result.isError, true);
    assert.match(callText(result), /mcp-argument-unreadable: .*goes through a process's view of the file system/);
    assert.deepEqual(disk(), before);
  });

  test('a symlink in the workspace to a folder no one serves: policy judges the name, the server refuses where it leads', async () => {
    // Policy sees paths as named (the PDP cannot see the server's disk); the server resolves links
    // and keeps to its own folders: layered, nothing lands outside either.
    const elsewhere = realpathSync(mkdtempSync(join(tmpdir(), 'portcullis-mcp-elsewhere-')));
    try {
      symlinkSync(elsewhere, join(files.workspace, 'link'));
      const result = await writer.callTool({ name: 'write_file', arguments: { path: join(files.workspace, 'link', 'through-link.txt'), content: 'x' } });
      assert.equal(result.isError, true);
      assert.doesNotMatch(callText(result), /denied by policy/);
      assert.match(callText(result), /outside allowed directories/i);
      assert.deepEqual(readdirSync(elsewhere), []);
    } finally {
      rmSync(join(files.workspace, 'link'), { force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  test('read_multiple_files is judged on every path it names: one unreadable path refuses the whole call', async () => {
    const error = await reader.callTool({ name: 'read_multiple_files', arguments: { paths: [join(files.workspace, 'notes.txt'), 'notes.txt'] } });
    assert.equal(error.isError, true);
    assert.match(callText(error), /mcp-argument-unreadable: the argument paths cannot be judged: argument paths path 2/);
  });
});

describe('the folders the server serves', () => {
  test("stay the configured ones: the server's roots/list is refused, the agent never asked, a read outside them refused", async () => {
    // The server asks a client that declares roots for them once initialized, and serves those instead of its own folders.
    const sub = 'rick-reader';
    const agent = new Client({ name: 'portcullis-test-agent', version: '1.0.0' }, { capabilities: { roots: { listChanged: true } } });
    let asked = 0;
    agent.setRequestHandler(ListRootsRequestSchema, () => {
      asked += 1;
      return { roots: [{ uri: 'file:///', name: 'the whole disk' }] };
    });
    await agent.connect(new StreamableHTTPClientTransport(new URL(gateway.pep.endpoint(SERVER)), { requestInit: { headers: { authorization: `Bearer ${await gateway.token(sub, ['reader'])}` } } }));
    const decided = await eventually("the server's roots/list decided", async () =>
      ((await gateway.pdp.auditEvents()) as { api?: { operation?: string }; actor?: { user?: { uid?: string } }; action?: string }[]).find((event) => event.api?.operation === 'roots/list' && event.actor?.user?.uid === sub)?.action,
    );
    assert.equal(decided, 'Denied');
    assert.equal(asked, 0, 'the agent was asked for roots');
    const read = await agent.callTool({ name: 'read_text_file', arguments: { path: '/etc/passwd' } });
    assert.equal(read.isError, true);
    assert.doesNotMatch(callText(read), /root:x:0:0/);
    await gateway.disconnect(agent);
  });
});
