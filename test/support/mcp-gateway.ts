// The MCP gateway between the official SDK client (as the agent) and real MCP servers, deciding
// through a real PDP. A suite names the upstream servers (as the servers file does) and the PDP's
// bundle; the gateway runs in this process over loopback HTTP, or as its bin does (stdio mode).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadPepMcpConfig, startMcpPep, type RunningMcpPep } from '@portcullis/pep-mcp';
import type { StdioServerLaunch } from './mcp-servers.ts';
import { startTestPdp, type TestPdp } from './pdp-harness.ts';
import { REPOSITORY_ROOT } from './repository-root.ts';

/** One entry of the servers file, as the gateway reads it. */
export type McpServerEntry = Record<string, unknown> & { readonly name: string };

export interface McpGatewayOptions {
  readonly servers: readonly McpServerEntry[];
  /** The PDP's settings (a suite's own bundle: PORTCULLIS_BUNDLE_FILE). */
  readonly pdpEnv?: Record<string, string>;
  /** More gateway settings (PORTCULLIS_PEP_MCP_*). */
  readonly pepEnv?: Record<string, string>;
  /** Where the gateway reaches the PDP, given the PDP's own URL (a test may put a fault in between). */
  readonly pdpUrlFor?: (pdpUrl: string) => Promise<string>;
}

export interface McpGateway {
  readonly pdp: TestPdp;
  readonly pep: RunningMcpPep;
  /** What the gateway logged. */
  readonly logs: string[];
  /** The environment the gateway was configured from (a test starts the bin with it). */
  readonly pepEnvironment: Readonly<Record<string, string>>;
  /** A folder for the suite's files (removed on close). */
  readonly dir: string;
  /** An agent's token from the PDP's dev issuer. */
  token(sub: string, roles: string[]): Promise<string>;
  /** The SDK client connected to `/mcp/<server>` over Streamable HTTP with the token (none: no Authorization header). */
  connect(server: string, token: string | undefined, name?: string): Promise<Client>;
  /** Ends a client's session as an agent that is done does: DELETE (Streamable HTTP), then closes it. */
  disconnect(client: Client): Promise<void>;
  /** The SDK client with the gateway spawned as a local agent's stdio server (`stdio --server <name>`), the token in PORTCULLIS_TOKEN. */
  connectStdio(server: string, token: string): Promise<{ client: Client; stderr: () => string }>;
  /** Any HTTP request to the gateway, for what the SDK client will not send. */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** A servers-file entry for a stdio server (the reference filesystem server's launch, say); the gateway starts one per agent session. */
export function stdioServerEntry(name: string, launch: StdioServerLaunch, extra: Record<string, unknown> = {}): McpServerEntry {
  return { name, ...extra, stdio: { command: launch.command, args: [...launch.args], env: { ...launch.env } } };
}

export async function startMcpGateway(options: McpGatewayOptions): Promise<McpGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-mcp-gateway-'));
  let pdp: TestPdp | undefined;
  const clients: Client[] = [];
  try {
    pdp = await startTestPdp(options.pdpEnv);
    const serversFile = join(dir, 'servers.json');
    writeFileSync(serversFile, JSON.stringify({ servers: options.servers }, null, 2));
    const pepToken = await pdp.pepTokenFor(options.servers.map((server) => server.name), 'pep-mcp-test');
    const env: Record<string, string> = {
      PORTCULLIS_PEP_LISTEN_PORT: '0',
      PORTCULLIS_PEP_MCP_SERVERS_FILE: serversFile,
      PORTCULLIS_PEP_PDP_URL: options.pdpUrlFor ? await options.pdpUrlFor(pdp.url) : pdp.url,
      PORTCULLIS_PEP_TOKEN: pepToken,
      ...options.pepEnv,
    };
    const logs: string[] = [];
    const pep = await startMcpPep(loadPepMcpConfig(env), { env, log: (message, fields) => logs.push(fields ? `${message} ${JSON.stringify(fields)}` : message) });
    const testPdp = pdp;
    return {
      pdp: testPdp,
      pep,
      logs,
      pepEnvironment: env,
      dir,
      token: (sub, roles) => testPdp.token({ sub, roles, kind: 'agent' }),
      async connect(server, token, name = 'portcullis-test-agent') {
        const client = new Client({ name, version: '1.0.0' });
        const transport = new StreamableHTTPClientTransport(new URL(pep.endpoint(server)), token === undefined ? {} : { requestInit: { headers: { authorization: `Bearer ${token}` } } });
        await client.connect(transport);
        clients.push(client);
        return client;
      },
      async disconnect(client) {
        const transport = client.transport;
        if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession();
        await client.close();
      },
      async connectStdio(server, token) {
        const transport = new StdioClientTransport({
          command: process.execPath,
          args: ['--conditions=source', '--import', 'tsx', join(REPOSITORY_ROOT, 'pep-agents/mcp/bin/pep-mcp.mjs'), 'stdio', '--server', server],
          env: { ...env, PORTCULLIS_TOKEN: token, PORTCULLIS_LOG_FORMAT: 'json' },
          cwd: REPOSITORY_ROOT,
          stderr: 'pipe',
        });
        let stderr = '';
        transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        const client = new Client({ name: 'portcullis-test-agent', version: '1.0.0' });
        clients.push(client);
        await client.connect(transport);
        return { client, stderr: () => stderr };
      },
      request: (path, init) => fetch(new URL(path, pep.url), init),
      async close() {
        await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
        await pep.close();
        await testPdp.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await pdp?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
