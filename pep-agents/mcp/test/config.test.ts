// The gateway's configuration: the servers file and PORTCULLIS_* read once, every problem a
// ConfigError naming the file and entry (or the variable) and what it must be.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadPepMcpConfig, readUpstreamServers } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-mcp-config-'));
let files = 0;

function serversFile(content: unknown, extension = 'json'): string {
  const file = join(dir, `servers-${++files}.${extension}`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function refusal(content: unknown, pattern: RegExp, extension?: string): void {
  const file = serversFile(content, extension);
  assert.throws(() => readUpstreamServers(file, {}), (error: Error) => {
    assert.equal(error.name, 'ConfigError');
    assert.match(error.message, pattern);
    assert.ok(error.message.includes(file), `names the file: ${error.message}`);
    return true;
  });
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('the servers file', () => {
  it('reads stdio and HTTP servers from YAML, with environment, labels and credentials', () => {
    writeFileSync(join(dir, 'tickets.secret'), 'server-credential\n');
    const file = serversFile(
      [
        'servers:',
        '  - name: files',
        '    environment: production',
        '    labels: { team: data }',
        '    stdio: { command: node, args: [server.js, /srv], env: { MODE: ro }, cwd: work }',
        '  - name: tickets',
        '    http: { url: "https://tickets.internal/mcp", credential: { file: tickets.secret } }',
        '  - name: wiki',
        '    http: { url: "http://127.0.0.1:9000/mcp", credential: { env: WIKI_TOKEN } }',
      ].join('\n'),
      'yaml',
    );
    const [files, tickets, wiki] = readUpstreamServers(file, { WIKI_TOKEN: 'x' });
    assert.deepEqual(files, { name: 'files', environment: 'production', labels: { team: 'data' }, transport: { kind: 'stdio', command: 'node', args: ['server.js', '/srv'], env: { MODE: 'ro' }, cwd: join(dir, 'work') } });
    assert.equal(tickets!.transport.kind, 'http');
    assert.deepEqual(tickets!.transport.kind === 'http' && tickets!.transport.credential, { file: join(dir, 'tickets.secret') });
    assert.deepEqual(wiki!.transport.kind === 'http' && wiki!.transport.credential, { env: 'WIKI_TOKEN' });
  });

  it('refuses what it cannot use, naming the entry', () => {
    refusal('servers: [', /cannot be read as YAML/, 'yaml');
    refusal({ servers: [] }, /non-empty list/);
    refusal({ servers: [{ name: 'files' }] }, /servers\[0\]: set exactly one of "stdio"/);
    refusal({ servers: [{ name: 'files', stdio: { command: 'a' }, http: { url: 'http://x' } }] }, /set exactly one/);
    refusal({ servers: [{ name: '../up', stdio: { command: 'a' } }] }, /servers\[0\]\.name: is required: letters, digits/);
    refusal({ servers: [{ name: 'a', stdio: { command: 'a' } }, { name: 'a', stdio: { command: 'b' } }] }, /servers\[1\]\.name: "a" is named twice/);
    refusal({ servers: [{ name: 'a', stdio: { args: ['x'] } }] }, /stdio\.command: is required/);
    refusal({ servers: [{ name: 'a', stdio: { command: 'a', args: 'x' } }] }, /stdio\.args: must be a list of strings/);
    refusal({ servers: [{ name: 'a', stdio: { command: 'a', env: { N: 1 } } }] }, /stdio\.env: must map names to strings/);
    refusal({ servers: [{ name: 'a', stdio: { command: 'a' }, tools: [] }] }, /servers\[0\]\.tools: is not a setting/);
    refusal({ servers: [{ name: 'a', http: { url: 'ftp://x' } }] }, /http\.url: must be an http\(s\) URL/);
    refusal({ servers: [{ name: 'a', http: { url: 'https://user:pw@x/mcp' } }] }, /must not carry a user or password/);
    refusal({ servers: [{ name: 'a', http: { url: 'https://x/mcp', credential: 'literal-secret' } }] }, /credential: must be \{ file: <path> \} or \{ env: <variable> \}/);
    refusal({ servers: [{ name: 'a', http: { url: 'https://x/mcp', credential: { env: 'UNSET_TOKEN' } } }] }, /credential\.env: names UNSET_TOKEN, which is not set/);
    refusal({ servers: [{ name: 'a', http: { url: 'https://x/mcp', credential: { file: 'missing.secret' } } }] }, /credential: cannot read/);
  });
});

describe('the gateway settings', () => {
  const base = () => ({ PORTCULLIS_PEP_MCP_SERVERS_FILE: serversFile({ servers: [{ name: 'files', stdio: { command: 'node' } }] }), PORTCULLIS_PEP_TOKEN: 'pep' });

  it('defaults to loopback, with the PDP issuer as the authorization server', () => {
    const config = loadPepMcpConfig({ ...base(), PORTCULLIS_OIDC_ISSUER: 'https://issuer.example.test' });
    assert.equal(config.listen.host, '127.0.0.1');
    assert.deepEqual(config.oauth.authorizationServers, ['https://issuer.example.test']);
    assert.equal(config.servers[0]!.name, 'files');
    assert.ok(Object.isFrozen(config.limits));
  });

  it('names the variable that is wrong', () => {
    assert.throws(() => loadPepMcpConfig({ PORTCULLIS_PEP_TOKEN: 'pep' }), /PORTCULLIS_PEP_MCP_SERVERS_FILE: is required/);
    assert.throws(() => loadPepMcpConfig({ ...base(), PORTCULLIS_PEP_MCP_PUBLIC_URL: 'gateway.example' }), /PORTCULLIS_PEP_MCP_PUBLIC_URL: must be an http\(s\) URL/);
    assert.throws(() => loadPepMcpConfig({ ...base(), PORTCULLIS_PEP_MCP_AUTHORIZATION_SERVERS: 'https://ok.example,not a url' }), /PORTCULLIS_PEP_MCP_AUTHORIZATION_SERVERS/);
    assert.throws(() => loadPepMcpConfig({ ...base(), PORTCULLIS_PEP_MCP_MAX_SESSIONS: '0' }), /PORTCULLIS_PEP_MCP_MAX_SESSIONS/);
    assert.throws(() => loadPepMcpConfig({ ...base(), PORTCULLIS_PEP_TLS_CERT_FILE: '/etc/hostname' }), /PORTCULLIS_PEP_TLS_KEY_FILE: set the TLS certificate and key files together/);
  });
});
