import { secretReader } from '@portcullis/pep-core';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { UpstreamServerConfig } from '../config/upstream-servers.ts';
import { HttpUpstreamTransport } from './http-upstream-transport.ts';

/**
 * The most one server message may take (bytes): the same bound the SDK's stdio client keeps on
 * its read buffer, so a server reached over HTTP is held to what one over stdio is.
 */
export const MAX_SERVER_MESSAGE_BYTES = 10 * 1024 * 1024;

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
  return new HttpUpstreamTransport({ url: transport.url, headers, maxMessageBytes: MAX_SERVER_MESSAGE_BYTES });
}
