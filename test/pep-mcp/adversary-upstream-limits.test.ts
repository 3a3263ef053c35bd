// Adversary: a server that answers with more than any agent should be handed. Over stdio and over
// Streamable HTTP (hostile-server.mjs), a tool result beyond the gateway's bound on one server
// message (10 MiB) fails the call with a JSON-RPC error instead of being read whole into the
// gateway's memory and passed on; a result within it passes, and the gateway goes on serving.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { gatewayTestPolicyBundle } from './gateway-test-policy.ts';
import { callText, rejection } from './tool-results.ts';

const HOSTILE = fileURLToPath(new URL('./hostile-server.mjs', import.meta.url));
const SERVER_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const OVERSIZE = 11 * 1024 * 1024;

describe('adversary: a server answering more than the gateway reads', () => {
  let http: ChildProcess;
  let gateway: McpGateway;

  before(async () => {
    http = spawn(process.execPath, [HOSTILE, '--http'], { env: SERVER_ENV, stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(http.stdout!, 'data')) as [Buffer];
    const port = /listening (\d+)/.exec(line.toString('utf8'))?.[1];
    assert.ok(port, line.toString('utf8'));
    gateway = await startMcpGateway({
      servers: [
        { name: 'hostile-stdio', stdio: { command: process.execPath, args: [HOSTILE], env: SERVER_ENV } },
        { name: 'hostile-http', http: { url: `http://127.0.0.1:${port}/mcp` } },
      ],
      pdpEnv: { PORTCULLIS_BUNDLE_FILE: gatewayTestPolicyBundle() },
    });
  });
  after(async () => {
    await gateway?.close();
    if (http && http.exitCode === null) {
      http.kill('SIGTERM');
      await once(http, 'exit');
    }
  });

  for (const server of ['hostile-stdio', 'hostile-http']) {
    it(`${server}: an oversize result fails the call; a result within the bound passes, and the gateway goes on`, async () => {
      const token = await gateway.token('agent-flooded', ['reader']);
      const flooded: Client = await gateway.connect(server, token);
      const error = await rejection(flooded.callTool({ name: 'flood', arguments: { bytes: OVERSIZE } }));
      assert.equal(error.code, -32012, error.message);
      const agent = await gateway.connect(server, token);
      const fine = await agent.callTool({ name: 'flood', arguments: { bytes: 64 * 1024 } });
      assert.equal(callText(fine).length, 64 * 1024);
      await gateway.disconnect(agent);
    });
  }
});
