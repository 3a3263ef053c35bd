// The gateway spawned by a local agent as its stdio server (`portcullis-pep-mcp stdio --server
// <name>`, the bin as shipped): the SDK's stdio client as the agent, the token from
// PORTCULLIS_TOKEN, the same decisions as over HTTP; a token the PDP refuses ends at initialize.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { prepareFilesystemServer, type FilesystemServerFixture } from '../support/mcp-servers.ts';
import { gatewayTestPolicyBundle } from './gateway-test-policy.ts';
import { tappedLines, tappedServerEntry } from './raw-session.ts';

describe('the MCP gateway in stdio mode', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let log: string;

  before(async () => {
    files = prepareFilesystemServer();
    log = join(files.outside, 'tap.log');
    writeFileSync(join(files.workspace, 'notes.txt'), 'read through stdio\n');
    gateway = await startMcpGateway({ servers: [tappedServerEntry('files', files.launch, log)], pdpEnv: { PORTCULLIS_BUNDLE_FILE: gatewayTestPolicyBundle() } });
  });
  after(async () => {
    await gateway?.close();
    files?.remove();
  });

  it('decides each call of a local agent: allowed ones run, denied ones are tool errors with the reason', async () => {
    const token = await gateway.token('agent-local', ['reader']);
    const { client, stderr } = await gateway.connectStdio('files', token);
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      assert.ok(names.includes('read_text_file') && !names.includes('move_file'));
      const read = await client.callTool({ name: 'read_text_file', arguments: { path: join(files.workspace, 'notes.txt') } });
      assert.match(JSON.stringify(read.content), /read through stdio/);
      const target = join(files.workspace, 'stdio-write.txt');
      const write = await client.callTool({ name: 'write_file', arguments: { path: target, content: 'no' } });
      assert.equal(write.isError, true);
      assert.match(JSON.stringify(write.content), /mcp-write-denied/);
      assert.equal(existsSync(target), false);
      assert.ok(!stderr().includes(token.split('.')[2]!), 'the token is not logged');
    } finally {
      await client.close();
    }
  });

  it('refuses a token the PDP does not accept at initialize, before the server starts', async () => {
    const before = tappedLines(log).length;
    await assert.rejects(gateway.connectStdio('files', 'not-a-token'), (error: Error & { code?: number }) => {
      assert.equal(error.code, -32011, error.message);
      assert.match(error.message, /credential was not accepted/);
      return true;
    });
    assert.equal(tappedLines(log).length, before, 'nothing reached a server');
  });
});
