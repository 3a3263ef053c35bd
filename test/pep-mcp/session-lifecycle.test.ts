// Agent sessions are bounded and cleaned up: each has its own server process, which ends when
// the agent deletes the session, when the session idles out, and when the gateway stops; past
// the limit a new session is refused with 503. The bin as shipped serves and exits 0 on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { startEverythingServer, type FilesystemServerFixture } from '../support/mcp-servers.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { gatewayTestPolicyBundle } from './gateway-test-policy.ts';
import { RawSession, tapPids, tappedServerEntry } from './raw-session.ts';
import { startTappedFilesGateway } from './tapped-files-gateway.ts';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('MCP gateway sessions', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let log: string;
  let token: string;

  before(async () => {
    ({ gateway, files, log } = await startTappedFilesGateway({ PORTCULLIS_PEP_MCP_MAX_SESSIONS: '2', PORTCULLIS_PEP_MCP_SESSION_IDLE_SECONDS: '2', PORTCULLIS_PEP_SHUTDOWN_GRACE_SECONDS: '0' }));
    token = await gateway.token('agent-files', ['reader']);
  });
  after(async () => {
    await gateway?.close();
    files?.remove();
  });

  it('ends the session\'s server process when the agent deletes the session', async () => {
    const client = await gateway.connect('files', token);
    await client.listTools();
    const pid = tapPids(log).at(-1)!;
    assert.ok(running(pid));
    await gateway.disconnect(client);
    await eventually('the server process ended', () => !running(pid));
    assert.equal(gateway.pep.health().sessions, 0);
  });

  it('keeps no session for an initialize the transport does not take (not in its shape)', async () => {
    const before = gateway.pep.health().sessions;
    const answer = await new RawSession(gateway.pep.endpoint('files'), token).post(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: {} }));
    assert.equal(answer.status, 400);
    assert.equal(gateway.pep.health().sessions, before);
  });

  it('refuses a session past the limit with 503, and ends idle sessions with their servers', async () => {
    const first = new RawSession(gateway.pep.endpoint('files'), token);
    const second = new RawSession(gateway.pep.endpoint('files'), token);
    assert.equal((await first.open()).status, 200);
    assert.equal((await second.open()).status, 200);
    const third = await new RawSession(gateway.pep.endpoint('files'), token).post(
      JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    );
    assert.equal(third.status, 503);
    assert.equal(third.headers.get('retry-after'), '5');
    assert.equal(third.messages[0]!.error.code, -32012);
    const pids = tapPids(log).slice(-2);
    await eventually('both idle sessions ended', () => gateway.pep.health().sessions === 0, { timeoutMs: 30_000 });
    await eventually('their server processes ended', () => pids.every((pid) => !running(pid)));
    const gone = await first.post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }));
    assert.equal(gone.status, 404, 'an ended session is not found');
  });

  it('ends every server process when the gateway stops', async () => {
    const other = await startMcpGateway({ servers: [tappedServerEntry('files', files.launch, log)], pdpEnv: { PORTCULLIS_BUNDLE_FILE: gatewayTestPolicyBundle() }, pepEnv: { PORTCULLIS_PEP_SHUTDOWN_GRACE_SECONDS: '0' } });
    const client = await other.connect('files', await other.token('agent-files', ['reader']));
    await client.listTools();
    const pid = tapPids(log).at(-1)!;
    assert.ok(running(pid));
    await other.close();
    await eventually('the server process ended', () => !running(pid));
  });

  it('runs as its bin: serves agents, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(REPOSITORY_ROOT, 'pep-agents/mcp/bin/pep-mcp.mjs')], {
      env: { ...process.env, ...gateway.pepEnvironment, PORTCULLIS_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const port = Number(await eventually('the listening line', () => /"port":(\d+)/.exec(stderr)?.[1], { timeoutMs: 30_000 }));
      const session = new RawSession(`http://127.0.0.1:${port}/mcp/files`, token);
      assert.equal((await session.open()).status, 200);
      const listed = await session.post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
      assert.ok(listed.messages[0]!.result.tools.length > 0);
      assert.ok(!stderr.includes(token.split('.')[2]!), 'the token is not logged');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
  });
});

describe('MCP gateway sessions with a Streamable HTTP server', () => {
  it('opens a server session per agent session and ends it (DELETE) when the agent session ends', async () => {
    const everything = await startEverythingServer();
    const gateway = await startMcpGateway({ servers: [{ name: 'everything', http: { url: everything.url } }], pdpEnv: { PORTCULLIS_BUNDLE_FILE: gatewayTestPolicyBundle() }, pepEnv: { PORTCULLIS_PEP_SHUTDOWN_GRACE_SECONDS: '0' } });
    try {
      const client = await gateway.connect('everything', await gateway.token('agent-everything', ['reader']));
      const echoed = await client.callTool({ name: 'echo', arguments: { message: 'through the gateway' } });
      assert.match(JSON.stringify(echoed.content), /through the gateway/);
      const opened = /Session initialized with ID: ([0-9a-f-]+)/.exec(everything.output())?.[1];
      assert.ok(opened, everything.output());
      await gateway.disconnect(client);
      await eventually('the server session was ended', () => everything.output().includes(`Received session termination request for session ${opened}`));
    } finally {
      await gateway.close();
      await everything.stop();
    }
  });
});
