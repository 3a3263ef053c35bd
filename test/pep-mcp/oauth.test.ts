// The gateway as an OAuth 2.1 resource server (MCP authorization, RFC 9728): no token is a 401
// pointing at the protected-resource metadata; a token the PDP refuses is a 401 with
// invalid_token, decided at initialize before any server starts; a principal policy does not
// let connect is refused; tokens never reach the log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { McpGateway } from '../support/mcp-gateway.ts';
import type { FilesystemServerFixture } from '../support/mcp-servers.ts';
import { RawSession, tappedLines, } from './raw-session.ts';
import { startTappedFilesGateway } from './tapped-files-gateway.ts';

describe('OAuth at the MCP gateway', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let log: string;
  let endpoint: string;

  before(async () => {
    ({ gateway, files, log } = await startTappedFilesGateway({ PORTCULLIS_PEP_MCP_AUTHORIZATION_SERVERS: 'https://login.example.test/realms/ops', PORTCULLIS_PEP_MCP_SCOPES: 'mcp:tools,mcp:resources' }));
    endpoint = gateway.pep.endpoint('files');
  });
  after(async () => {
    await gateway?.close();
    files?.remove();
  });

  it('answers a request without a token with 401 and the metadata URL', async () => {
    const answer = await new RawSession(endpoint, undefined).post('{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}');
    assert.equal(answer.status, 401);
    const challenge = answer.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.ok(challenge.includes(`resource_metadata="${gateway.pep.url}/.well-known/oauth-protected-resource/mcp/files"`), challenge);
    assert.match(challenge, /scope="mcp:tools mcp:resources"/);
    assert.doesNotMatch(challenge, /error=/, 'no token was refused: none was given');
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(endpoint, { method, headers: { accept: 'text/event-stream' } });
      assert.equal(response.status, 401, method);
      assert.match(response.headers.get('www-authenticate') ?? '', /resource_metadata=/);
    }
  });

  it('serves the protected-resource metadata at the per-path and the root well-known address', async () => {
    const perPath = await gateway.request('/.well-known/oauth-protected-resource/mcp/files');
    assert.equal(perPath.status, 200);
    assert.deepEqual(await perPath.json(), {
      resource: endpoint,
      authorization_servers: ['https://login.example.test/realms/ops'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:tools', 'mcp:resources'],
    });
    const root = (await (await gateway.request('/.well-known/oauth-protected-resource')).json()) as Record<string, unknown>;
    assert.equal(root.resource, gateway.pep.url);
    assert.deepEqual(root.bearer_methods_supported, ['header']);
    assert.equal((await gateway.request('/.well-known/oauth-protected-resource/mcp/nobody')).status, 404);
  });

  it('lets the SDK client discover the challenge: connecting without a token fails as unauthorized', async () => {
    await assert.rejects(gateway.connect('files', undefined), /401|nauthorized/);
  });

  it('refuses a token the PDP does not accept with invalid_token, before any server starts', async () => {
    const forged = `${(await gateway.token('agent-files', ['reader'])).slice(0, -6)}AAAAAA`;
    const answer = await new RawSession(endpoint, forged).post(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
    assert.equal(answer.status, 401);
    assert.match(answer.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.equal(tappedLines(log), '', 'no server was started for it');
    await assert.rejects(gateway.connect('files', forged), /401|nauthorized|invalid_token/);
    assert.equal(tappedLines(log), '');
  });

  it('refuses a principal policy does not let connect, with the reason', async () => {
    const answer = await new RawSession(endpoint, await gateway.token('agent-outsider', ['no-mcp'])).post(
      JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    );
    assert.equal(answer.status, 403);
    assert.equal(answer.messages[0]!.id, 7);
    assert.match(answer.messages[0]!.error.message, /mcp-connect-denied: the core test policy: role no-mcp may not connect/);
    assert.equal(tappedLines(log), '');
  });

  it('refuses a session used with another principal\'s token, and takes a refreshed token of the same principal', async () => {
    const session = new RawSession(endpoint, await gateway.token('agent-files', ['reader']));
    await session.open();
    const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    const other = await session.post(list, { authorization: `Bearer ${await gateway.token('agent-other', ['reader'])}` });
    assert.equal(other.status, 401);
    assert.match(other.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const refreshed = await session.post(list, { authorization: `Bearer ${await gateway.token('agent-files', ['reader'])}` });
    assert.equal(refreshed.status, 200);
    assert.ok(Array.isArray(refreshed.messages[0]!.result.tools));
    await session.close();
  });

  it('never logs a token', async () => {
    const token = await gateway.token('agent-logged', ['reader']);
    const client = await gateway.connect('files', token);
    await client.listTools();
    await gateway.disconnect(client);
    const logs = gateway.logs.join('\n');
    assert.ok(logs.includes('MCP session opened'), 'the gateway did log the session');
    assert.ok(!logs.includes(token.split('.')[2]!), 'the token is not in the log');
    assert.ok(!logs.includes(gateway.pepEnvironment.PORTCULLIS_PEP_TOKEN!.split('.')[2]!), 'the PEP credential is not in the log');
  });
});
