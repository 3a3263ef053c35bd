import { secretReader } from '@portcullis/pep-core';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { UpstreamServerConfig } from '../config/upstream-servers.ts';
import { boundedFetch, MAX_SERVER_MESSAGE_BYTES } from './bounded-fetch.ts';

/**
 * A fresh connection to one upstream server, for one agent session: a stdio server is its own
 * process (as an MCP host spawns one per client) with only the environment the servers file
 * gives it beside PATH, HOME and the like; an HTTP server is a Streamable HTTP client with the
 * gateway's credential, which the agent never sees.
 */
export function upstreamTransport(server: UpstreamServerConfig, env: NodeJS.ProcessEnv): Transport {
  const transport = server.transport;
  if (transport.kind === 'stdio') {
    // The server's stderr is its own diagnostics: it may echo what a principal may only see masked, so it is not kept.
    return new StdioClientTransport({ command: transport.command, args: [...transport.args], env: { ...transport.env }, ...(transport.cwd ? { cwd: transport.cwd } : {}), stderr: 'ignore' });
  }
  const headers: Record<string, string> = transport.credential ? { authorization: `Bearer ${secretReader(transport.credential, env)()}` } : {};
  // A server that sends more than one message may take is ended, as the SDK's stdio client ends one (its read buffer's bound).
  const client: StreamableHTTPClientTransport = new StreamableHTTPClientTransport(transport.url, {
    requestInit: { headers },
    fetch: boundedFetch(MAX_SERVER_MESSAGE_BYTES, () => void client.close().catch(() => undefined)),
  });
  return client;
}
