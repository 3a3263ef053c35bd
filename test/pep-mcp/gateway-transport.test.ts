// The gateway end to end over Streamable HTTP: the official SDK client as the agent, the
// reference filesystem server over stdio behind it, a real PDP deciding with the core test
// policy. Allowed calls reach the server; denied ones answer a tool error naming policy's reason
// and leave no trace on the server's side; each session has its own server process.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMcpGateway, stdioServerEntry, type McpGateway } from '../support/mcp-gateway.ts';
import { prepareFilesystemServer, type FilesystemServerFixture } from '../support/mcp-servers.ts';
import { gatewayTestPolicyBundle } from './gateway-test-policy.ts';

describe('the MCP gateway over Streamable HTTP', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let root: string;
  let agent: string;

  before(async () => {
    files = prepareFilesystemServer();
    root = files.workspace;
    writeFileSync(join(root, 'notes.txt'), 'hello from the server side\n');
    gateway = await startMcpGateway({ servers: [stdioServerEntry('files', files.launch)], pdpEnv: { PORTCULLIS_BUNDLE_FILE: gatewayTestPolicyBundle() } });
    agent = await gateway.token('agent-files', ['reader']);
  });
  after(async () => {
    await gateway?.close();
    files?.remove();
  });

  it('lets an allowed tool call reach the server and relays its answer', async () => {
    const client = await gateway.connect('files', agent);
    const result = await client.callTool({ name: 'read_text_file', arguments: { path: join(root, 'notes.txt') } });
    assert.equal(result.isError, undefined);
    assert.match(JSON.stringify(result.content), /hello from the server side/);
    await gateway.disconnect(client);
  });

  it('answers a denied tool call with a tool error naming the reason, and the server never sees it', async () => {
    const client = await gateway.connect('files', agent);
    const target = join(root, 'written.txt');
    const result = await client.callTool({ name: 'write_file', arguments: { path: target, content: 'should not be written' } });
    assert.equal(result.isError, true);
    const text = (result.content as { type: string; text: string }[])[0]!.text;
    assert.match(text, /denied by policy/);
    assert.match(text, /mcp-write-denied: the core test policy: write_file is denied/, "policy's deny reason reaches the client");
    assert.equal(existsSync(target), false, 'the file was not written');
    await gateway.disconnect(client);
  });

  it('hides the tools policy names from tools/list, and refuses calling one as an unknown tool', async () => {
    const client = await gateway.connect('files', agent);
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    assert.ok(names.includes('read_text_file'));
    assert.ok(!names.includes('move_file'), 'move_file is hidden');
    writeFileSync(join(root, 'keep.txt'), 'stays\n');
    await assert.rejects(client.callTool({ name: 'move_file', arguments: { source: join(root, 'keep.txt'), destination: join(root, 'moved.txt') } }), (error: Error & { code?: number }) => {
      assert.equal(error.code, -32602);
      assert.match(error.message, /unknown tool/);
      return true;
    });
    assert.equal(readFileSync(join(root, 'keep.txt'), 'utf8'), 'stays\n');
    assert.equal(existsSync(join(root, 'moved.txt')), false);
    await gateway.disconnect(client);
  });

  it('opens a session per agent connection and ends it when the agent deletes it', async () => {
    const before = gateway.pep.health().sessions;
    const first = await gateway.connect('files', agent);
    const second = await gateway.connect('files', agent);
    assert.equal(gateway.pep.health().sessions, before + 2);
    await gateway.disconnect(first);
    assert.equal(gateway.pep.health().sessions, before + 1);
    const result = await second.callTool({ name: 'list_directory', arguments: { path: root } });
    assert.match(JSON.stringify(result.content), /notes\.txt/, 'the other session goes on');
    await gateway.disconnect(second);
    assert.equal(gateway.pep.health().sessions, before);
  });
});
