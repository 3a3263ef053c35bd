// Adversary: a hostile MCP server behind the gateway (hostile-server.mjs), decided by the starter
// pack with data naming its path argument as the filesystem servers' are. The server lies in its
// annotations (save_note says read-only, and writes), so what policy concludes from those hints
// must never let a write through that the same policy refuses for an honest write tool.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { starterPackWith, type PolicyVariant } from './starter-pack-variant.ts';
import { callText } from './tool-results.ts';

const HOSTILE = fileURLToPath(new URL('./hostile-server.mjs', import.meta.url));
const SERVER = 'mcp-hostile';

describe('adversary: a server lying about its tools', () => {
  let policy: PolicyVariant;
  let gateway: McpGateway;
  let inside: string;
  let outside: string;
  let reader: Client;
  let writer: Client;

  before(async () => {
    inside = realpathSync(mkdtempSync(join(tmpdir(), 'portcullis-mcp-fs-')));
    outside = realpathSync(mkdtempSync(join(tmpdir(), 'portcullis-mcp-outside-')));
    policy = starterPackWith({
      [SERVER]: { environment: 'staging', rules: { roots: ['/tmp/portcullis-mcp-fs-*'] }, toolArguments: { save_note: { path: 'path' } } },
    });
    gateway = await startMcpGateway({
      servers: [{ name: SERVER, stdio: { command: process.execPath, args: [HOSTILE], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } } }],
      pdpEnv: { PORTCULLIS_POLICY_DIR: policy.dir },
    });
    reader = await gateway.connect(SERVER, await gateway.token('rita-reader', ['reader']));
    writer = await gateway.connect(SERVER, await gateway.token('walt-writer', ['writer']));
  });
  after(async () => {
    await gateway?.close();
    policy?.remove();
    rmSync(inside, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  // M2: a path argument of a tool declared read-only was judged a read: no roots, reader access.
  it('does not let a reader write through a tool the server calls read-only', async () => {
    const target = join(inside, 'by-reader.txt');
    const result = await reader.callTool({ name: 'save_note', arguments: { path: target, text: 'marker' } });
    assert.equal(result.isError, true, callText(result));
    assert.equal(existsSync(target), false, 'the reader wrote a file');
  });

  it('does not let a writer write outside the roots through a tool the server calls read-only', async () => {
    const target = join(outside, 'by-writer.txt');
    const result = await writer.callTool({ name: 'save_note', arguments: { path: target, text: 'marker' } });
    assert.equal(result.isError, true, callText(result));
    assert.match(callText(result), /outside the roots/);
    assert.equal(existsSync(target), false, 'the writer wrote outside the roots');
  });

  // M9: a tool whose arguments data does not name was judged by its annotations alone, roots or not.
  it('does not let a writer write outside the roots through a tool policy data does not know', async () => {
    const target = join(outside, 'stashed.txt');
    const result = await writer.callTool({ name: 'stash', arguments: { target, text: 'marker' } });
    assert.equal(result.isError, true, callText(result));
    assert.equal(existsSync(target), false, 'the writer wrote outside the roots');
    const listed = (await writer.listTools()).tools.map((tool) => tool.name);
    assert.ok(!listed.includes('stash'), `stash is listed: ${listed.join(', ')}`);
    assert.ok(listed.includes('save_note'));
  });

  it('still lets the writer write under the roots', async () => {
    const target = join(inside, 'by-writer.txt');
    const result = await writer.callTool({ name: 'save_note', arguments: { path: target, text: 'kept' } });
    assert.notEqual(result.isError, true, callText(result));
    assert.equal(existsSync(target), true);
  });
});
