// Faults end fail-closed with a clear JSON-RPC error, never a hang and never a request let
// through: the PDP away (a session already open, and a new one), and the server behind the
// gateway gone (its process killed mid-session).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { prepareFilesystemServer, type FilesystemServerFixture } from '../support/mcp-servers.ts';
import { gatewayTestPolicyBundle } from './gateway-test-policy.ts';
import { RawSession, tapPids, tappedLines, tappedServerEntry } from './raw-session.ts';
import { startTappedFilesGateway } from './tapped-files-gateway.ts';

function rejectsWith(code: number, pattern: RegExp): (error: Error & { code?: number }) => boolean {
  return (error) => {
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('the MCP gateway when the server behind it goes away', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let log: string;

  before(async () => {
    ({ gateway, files, log } = await startTappedFilesGateway());
  });
  after(async () => {
    await gateway?.close();
    files?.remove();
  });

  it('answers the requests of a session whose server died with -32012, and a new session gets a server of its own', async () => {
    const token = await gateway.token('agent-files', ['reader']);
    const client = await gateway.connect('files', token);
    await client.listTools();
    const [pid] = tapPids(log);
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await eventually('the gateway saw the server end', () => gateway.logs.some((line) => line.includes('upstream connection ended')));
    await assert.rejects(client.callTool({ name: 'list_directory', arguments: { path: files.workspace } }), rejectsWith(-32012, /ended the connection|start a new session/));
    await assert.rejects(client.listTools(), rejectsWith(-32012, /start a new session/));
    await gateway.disconnect(client);

    const fresh = await gateway.connect('files', token);
    const result = await fresh.callTool({ name: 'list_directory', arguments: { path: files.workspace } });
    assert.equal(result.isError, undefined);
    assert.equal(tapPids(log).length, 2, 'the new session started its own server');
    await gateway.disconnect(fresh);
  });

  it('answers an initialize whose server cannot start, or cannot be reached, with -32012 rather than hang', async () => {
    // A port that was just free: nothing listens there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const broken = await startMcpGateway({
      servers: [
        { name: 'broken', stdio: { command: join(files.outside, 'no-such-program'), args: [] } },
        { name: 'unreachable', http: { url: `http://127.0.0.1:${port}/mcp` } },
      ],
      pdpEnv: { PORTCULLIS_BUNDLE_FILE: gatewayTestPolicyBundle() },
    });
    try {
      const token = await broken.token('agent-files', ['reader']);
      await assert.rejects(broken.connect('broken', token), rejectsWith(-32012, /could not be started|ended the connection/));
      await assert.rejects(broken.connect('unreachable', token), rejectsWith(-32012, /could not be reached/));
    } finally {
      await broken.close();
    }
  });
});

describe('the MCP gateway when the PDP is away', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let log: string;

  before(async () => {
    files = prepareFilesystemServer();
    log = join(files.outside, 'tap.log');
    // Records that cannot be shipped are not waited for at the end: the PDP is gone.
    gateway = await startMcpGateway({ servers: [tappedServerEntry('files', files.launch, log)], pdpEnv: { PORTCULLIS_BUNDLE_FILE: gatewayTestPolicyBundle() }, pepEnv: { PORTCULLIS_PEP_SHUTDOWN_GRACE_SECONDS: '0' } });
  });
  after(async () => {
    await gateway?.close();
    files?.remove();
  });

  it('fails every decided request closed with -32603 naming the outage, and refuses new sessions', async () => {
    const token = await gateway.token('agent-files', ['reader']);
    const client = await gateway.connect('files', token);
    await client.listTools();
    await gateway.pdp.close();

    const target = join(files.workspace, 'during-outage.txt');
    await assert.rejects(client.callTool({ name: 'write_file', arguments: { path: target, content: 'no decision, no write' } }), rejectsWith(-32603, /no policy decision could be had/));
    await assert.rejects(client.callTool({ name: 'read_text_file', arguments: { path: join(files.workspace, 'any.txt') } }), rejectsWith(-32603, /no policy decision could be had/));
    await assert.rejects(client.listTools(), rejectsWith(-32603, /no policy decision could be had/));
    assert.equal(existsSync(target), false);
    assert.doesNotMatch(tappedLines(log), /during-outage|any\.txt/, 'no call reached the server');

    const answer = await new RawSession(gateway.pep.endpoint('files'), token).post(
      JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    );
    assert.equal(answer.status, 503);
    assert.equal(answer.messages[0]!.error.code, -32603);
    assert.equal(tapPids(log).length, 1, 'no server started for the refused session');
    await gateway.disconnect(client).catch(() => undefined);
  });
});
