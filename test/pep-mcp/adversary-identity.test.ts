// Adversary: tokens that are not this agent's to use at the gateway, and sessions that are not its
// own. Every refusal happens before anything reaches the tapped server (initialize included), and
// a victim's session goes on working whatever another principal sent with its id.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import type { McpGateway } from '../support/mcp-gateway.ts';
import type { FilesystemServerFixture } from '../support/mcp-servers.ts';
import { RawSession, tappedLines, } from './raw-session.ts';
import { startTappedFilesGateway } from './tapped-files-gateway.ts';
import { auditBodyOf } from '@portcullis/pdp';

describe('adversary: identity and sessions', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let log: string;
  let victim: RawSession;
  let victimToken: string;

  before(async () => {
    ({ gateway, files, log } = await startTappedFilesGateway());
    victimToken = await gateway.token('victim-agent', ['reader']);
    victim = new RawSession(gateway.pep.endpoint('files'), victimToken);
    assert.equal((await victim.open()).status, 200);
  });
  after(async () => {
    await victim?.close();
    await gateway?.close();
    files?.remove();
  });

  it('refuses tokens minted for another audience and for the console, before any server starts', async () => {
    const before = tappedLines(log).split('\n').filter((line) => line.includes('"initialize"')).length;
    const tokens = {
      'another audience': await gateway.pdp.token({ sub: 'agent-elsewhere', roles: ['reader'], kind: 'agent', audience: 'https://another.example/api' }),
      'a console session': await gateway.pdp.token({ sub: 'agent-console', roles: ['reader'], console: true }),
    };
    for (const [what, token] of Object.entries(tokens)) {
      const answer = await new RawSession(gateway.pep.endpoint('files'), token).open();
      assert.ok(answer.status === 401 || answer.status === 403, `${what}: ${answer.status} ${JSON.stringify(answer.messages)}`);
    }
    assert.equal(tappedLines(log).split('\n').filter((line) => line.includes('"initialize"')).length, before, 'a server was started for a refused token');
  });

  it("refuses a PEP's credential as the agent's token (the gateway's own, the PEP role, the binding claim) before any server starts, and the record says why", async () => {
    const initializes = () => tappedLines(log).split('\n').filter((line) => line.includes('"initialize"')).length;
    const before = initializes();
    const tokens = {
      "the gateway's own PEP token": gateway.pepEnvironment.PORTCULLIS_PEP_TOKEN!,
      'a token with the pep role': await gateway.pdp.token({ sub: 'agent-with-pep-role', roles: ['reader', 'pep'], kind: 'agent' }),
      'a token with the resource binding claim': await gateway.pdp.token({ sub: 'agent-with-binding', roles: ['reader'], kind: 'agent', resources: ['files'] }),
    };
    for (const [what, token] of Object.entries(tokens)) {
      const answer = await new RawSession(gateway.pep.endpoint('files'), token).open();
      assert.ok(answer.status === 401 || answer.status === 403, `${what}: ${answer.status} ${JSON.stringify(answer.messages)}`);
    }
    assert.equal(initializes(), before, 'a server was started for a PEP credential');
    const refused = (await gateway.pdp.auditEvents('decisions'))
      .map((record) => auditBodyOf(record) as { principal?: { authenticated: boolean; error?: string }; effect: string })
      .filter((body) => body.principal?.error === 'token-pep-credential'); // the bundle's activation has no principal
    assert.ok(refused.length >= Object.keys(tokens).length, `each refusal is recorded with its reason (${refused.length})`);
    for (const body of refused) {
      assert.equal(body.effect, 'deny');
      assert.equal(body.principal?.authenticated, false);
    }
  });

  it("refuses another principal's DELETE and GET of a session, which goes on working", async () => {
    const intruder = await gateway.token('intruder-agent', ['reader']);
    const headers = { authorization: `Bearer ${intruder}`, 'mcp-session-id': victim.sessionId!, 'mcp-protocol-version': '2025-06-18' };
    const deleted = await gateway.request(new URL(gateway.pep.endpoint('files')).pathname, { method: 'DELETE', headers });
    assert.equal(deleted.status, 401);
    const stream = await gateway.request(new URL(gateway.pep.endpoint('files')).pathname, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } });
    assert.equal(stream.status, 401);
    await stream.body?.cancel();
    const still = await victim.post(JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'tools/list' }));
    assert.equal(still.status, 200);
    assert.ok(Array.isArray(still.messages.at(-1)?.result?.tools), JSON.stringify(still.messages));
  });

  it('refuses a session its token once it has expired, even though the session was opened with it', async () => {
    const shortLived = await gateway.pdp.token({ sub: 'agent-short', roles: ['reader'], kind: 'agent', ttlSeconds: 2 });
    const session = new RawSession(gateway.pep.endpoint('files'), shortLived);
    assert.equal((await session.open()).status, 200);
    const refused = await eventually('the expired token refused', async () => {
      const answer = await session.post(JSON.stringify({ jsonrpc: '2.0', id: 20, method: 'tools/list' }));
      return answer.status === 401 ? answer : undefined;
    });
    assert.match(refused.headers.get('www-authenticate') ?? '', /invalid_token/);
  });
});
