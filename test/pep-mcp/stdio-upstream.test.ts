// The reference everything server as a stdio upstream of the gateway: a long call's progress
// notifications reach the agent on that call's stream, and when the agent cancels, the gateway
// cancels the server's part under the id it sent the call with; the server's process is started
// with none of the gateway's secrets (its get-env tool shows its environment).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { prepareFilesystemServer, type FilesystemServerFixture } from '../support/mcp-servers.ts';
import { gatewayTestPolicyBundle } from './gateway-test-policy.ts';
import { tappedLines, tappedServerEntry } from './raw-session.ts';

const require = createRequire(import.meta.url);

/** The everything server's stdio launch (its bin, `stdio`). */
function everythingStdio(): { command: string; args: string[]; env: Record<string, string> } {
  const manifest = require.resolve('@modelcontextprotocol/server-everything/package.json');
  const bin = (require(manifest) as { bin: Record<string, string> }).bin['mcp-server-everything']!;
  return { command: process.execPath, args: [join(dirname(manifest), bin), 'stdio'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } };
}

describe('a stdio server behind the MCP gateway', () => {
  let gateway: McpGateway;
  let scratch: FilesystemServerFixture;
  let log: string;

  before(async () => {
    scratch = prepareFilesystemServer();
    log = join(scratch.outside, 'tap.log');
    gateway = await startMcpGateway({ servers: [tappedServerEntry('everything', everythingStdio(), log)], pdpEnv: { PORTCULLIS_BUNDLE_FILE: gatewayTestPolicyBundle() } });
  });
  after(async () => {
    await gateway?.close();
    scratch?.remove();
  });

  it('relays the server\'s progress to the calling agent, and passes the agent\'s cancellation on to the server', async () => {
    const client = await gateway.connect('everything', await gateway.token('agent-everything', ['reader']));
    const controller = new AbortController();
    const progress: number[] = [];
    const call = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 60, steps: 60 } }, undefined, {
      signal: controller.signal,
      onprogress: ({ progress: step }) => {
        progress.push(step);
        if (progress.length === 2) controller.abort();
      },
    });
    await assert.rejects(call, /abort/i);
    assert.deepEqual(progress.slice(0, 2), [1, 2]);
    const sent = (): { method?: string; id?: number; params?: Record<string, unknown> }[] =>
      tappedLines(log).split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    const forwarded = sent().find((message) => message.method === 'tools/call' && message.params?.name === 'trigger-long-running-operation');
    assert.ok(forwarded);
    await eventually('the server was told the call is cancelled', () => sent().some((message) => message.method === 'notifications/cancelled' && message.params?.requestId === forwarded.id));
    await gateway.disconnect(client);
  });

  it('starts the server with none of the gateway\'s secrets, over HTTP and in stdio mode', async () => {
    const token = await gateway.token('agent-everything', ['reader']);
    const secrets = [gateway.pepEnvironment.PORTCULLIS_PEP_TOKEN!, token];
    const client = await gateway.connect('everything', token);
    const overHttp = JSON.stringify((await client.callTool({ name: 'get-env', arguments: {} })).content);
    await gateway.disconnect(client);
    const { client: local } = await gateway.connectStdio('everything', token);
    const inStdioMode = JSON.stringify((await local.callTool({ name: 'get-env', arguments: {} })).content);
    await local.close();
    for (const env of [overHttp, inStdioMode]) {
      assert.match(env, /PATH/, 'the tool did show the environment');
      assert.doesNotMatch(env, /PORTCULLIS_/);
      for (const secret of secrets) assert.ok(!env.includes(secret.split('.')[2]!), 'no token reached the server');
    }
  });
});
