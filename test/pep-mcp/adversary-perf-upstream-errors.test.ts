// Adversary (issue 16, the gateway's own Streamable HTTP client): a server's HTTP answer that is not
// a JSON-RPC message never reaches the agent, whatever it says. The hostile server (over HTTP)
// holds a customer's address that policy masks for a reader; it answers one call with a bare HTTP
// 500 whose body quotes the address, and another with a 200 "application/json" body that is not
// JSON and starts with it. Each call fails as "could not be reached", and neither the address nor
// any part of it is in what the agent is told. And a call the server ran before dropping the
// connection is not sent again: one decided call is one execution.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { starterPackWith, type PolicyVariant } from './starter-pack-variant.ts';
import { callText, rejection } from './tool-results.ts';

const HOSTILE = fileURLToPath(new URL('./hostile-server.mjs', import.meta.url));
const SERVER = 'mcp-hostile-pii';
/** Any piece of the customer's address the server holds (ada.lovelace@example.com): a parser quotes only a few characters. */
const SECRET_PIECES = /ada|lovela|example\.com/;

describe('adversary: a server HTTP answer that is no JSON-RPC message', () => {
  let http: ChildProcess;
  let policy: PolicyVariant;
  let gateway: McpGateway;
  let agent: Client;

  before(async () => {
    http = spawn(process.execPath, [HOSTILE, '--http'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(http.stdout!, 'data')) as [Buffer];
    const port = /listening (\d+)/.exec(line.toString('utf8'))?.[1];
    assert.ok(port, line.toString('utf8'));
    policy = starterPackWith({ [SERVER]: { environment: 'staging', rules: { detectors: ['email'] } } });
    gateway = await startMcpGateway({ servers: [{ name: SERVER, http: { url: `http://127.0.0.1:${port}/mcp` } }], pdpEnv: { PORTCULLIS_POLICY_DIR: policy.dir } });
    agent = await gateway.connect(SERVER, await gateway.token('rita-reader', ['reader']));
  });
  after(async () => {
    await gateway?.close();
    policy?.remove();
    if (http && http.exitCode === null) {
      http.kill('SIGTERM');
      await once(http, 'exit');
    }
  });

  for (const tool of ['crash_http', 'garble_http']) {
    it(`${tool}: the call fails and the server's body is not in what the agent is told`, async () => {
      const error = await rejection(agent.callTool({ name: tool, arguments: {} }));
      assert.equal(error.code, -32012, error.message);
      assert.match(error.message, /could not be reached \(.*HTTP|could not be reached \(.*JSON/, error.message);
      assert.doesNotMatch(error.message, SECRET_PIECES);
    });
  }

  it('a call the server ran, then dropped the connection on, is not sent again (one decision, one execution)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'portcullis-reset-'));
    try {
      const runs = join(folder, 'runs.txt');
      // A call answered first, so the next one goes out on a kept-alive socket.
      assert.equal(callText(await agent.callTool({ name: 'flood', arguments: { bytes: 8 } })).length, 8);
      const error = await rejection(agent.callTool({ name: 'count_then_reset', arguments: { path: runs } }));
      assert.equal(error.code, -32012, error.message);
      assert.equal(readFileSync(runs, 'utf8'), 'ran\n', 'the server ran the call exactly once');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
