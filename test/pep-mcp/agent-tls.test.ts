// The agent-facing endpoint over HTTPS (PORTCULLIS_PEP_TLS_*), as agents beyond loopback need:
// the session opens and answers over TLS, and the protected resource is named by its https URL.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMcpGateway, stdioServerEntry, type McpGateway } from '../support/mcp-gateway.ts';
import { prepareFilesystemServer, type FilesystemServerFixture } from '../support/mcp-servers.ts';
import { createTestCa, issueCertificate } from '../support/test-certificates.ts';
import { gatewayTestPolicyBundle } from './gateway-test-policy.ts';

/** One HTTPS request trusting only the test CA; the answer's status, headers and body. */
function httpsRequest(url: string, ca: Buffer, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: options.method ?? 'GET', ca, headers: options.headers ?? {}, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/** The JSON-RPC messages of an answer, sent as one JSON body or as an SSE stream (the server chooses). */
function answerMessages(answer: { headers: Record<string, unknown>; body: string }): Record<string, any>[] {
  if (String(answer.headers['content-type']).startsWith('application/json')) return [JSON.parse(answer.body)];
  return answer.body.split('\n').filter((line) => line.startsWith('data: ') && line.length > 6).map((line) => JSON.parse(line.slice(6)));
}

describe('the MCP gateway over HTTPS', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let tlsDir: string;
  let ca: Buffer;

  before(async () => {
    files = prepareFilesystemServer();
    tlsDir = mkdtempSync(join(tmpdir(), 'portcullis-mcp-tls-'));
    const authority = createTestCa(tlsDir, 'agent-ca');
    const serving = issueCertificate(authority, tlsDir, 'gateway', { ipAddresses: ['127.0.0.1'] });
    ca = readFileSync(authority.certFile);
    gateway = await startMcpGateway({
      servers: [stdioServerEntry('files', files.launch)],
      pdpEnv: { PORTCULLIS_BUNDLE_FILE: gatewayTestPolicyBundle() },
      pepEnv: { PORTCULLIS_PEP_TLS_CERT_FILE: serving.certFile, PORTCULLIS_PEP_TLS_KEY_FILE: serving.keyFile },
    });
  });
  after(async () => {
    await gateway?.close();
    files?.remove();
    rmSync(tlsDir, { recursive: true, force: true });
  });

  it('serves sessions and its metadata over TLS, naming the resource by its https URL', async () => {
    assert.match(gateway.pep.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const endpoint = gateway.pep.endpoint('files');
    const token = await gateway.token('agent-files', ['reader']);
    const headers = { accept: 'application/json, text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const opened = await httpsRequest(endpoint, ca, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'tls', version: '1' } } }),
    });
    assert.equal(opened.status, 200);
    assert.ok(answerMessages(opened)[0]!.result.serverInfo);
    const session = String(opened.headers['mcp-session-id']);
    const sessionHeaders = { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };
    await httpsRequest(endpoint, ca, { method: 'POST', headers: sessionHeaders, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    const listed = await httpsRequest(endpoint, ca, { method: 'POST', headers: sessionHeaders, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    assert.ok(answerMessages(listed)[0]!.result.tools.some((tool: { name: string }) => tool.name === 'read_text_file'));
    const metadata = JSON.parse((await httpsRequest(`${gateway.pep.url}/.well-known/oauth-protected-resource/mcp/files`, ca)).body) as { resource: string };
    assert.equal(metadata.resource, endpoint);
    assert.match(endpoint, /^https:/);
    assert.equal((await httpsRequest(endpoint, ca, { method: 'DELETE', headers: sessionHeaders })).status, 200);
  });
});
