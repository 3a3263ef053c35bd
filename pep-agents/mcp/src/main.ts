import { readFileSync } from 'node:fs';
import { createMaskStrategyRegistry, createProcessLogger, logFunction, maskHashKeyFromEnv, PdpConnection, stopOnSignals, type LogFunction, type PdpConnectionHealth, type ResourceV1 } from '@portcullis/pep-core';
import { HttpAgentServer } from './agent/http-agent-server.ts';
import { StdioAgent } from './agent/stdio-agent.ts';
import { McpProtocolAdapter } from './calls/mcp-protocol-adapter.ts';
import { MCP_MASK_KINDS } from './calls/mcp-masks.ts';
import { loadPepMcpConfig, type PepMcpConfig } from './config/pep-mcp-config.ts';
import type { UpstreamServerConfig } from './config/upstream-servers.ts';
import { ResultMasker } from './results/result-masker.ts';
import type { ServerGate, SessionFactoryDeps } from './session/session-factory.ts';
import { readStdioArguments } from './stdio-arguments.ts';

export { loadPepMcpConfig, type PepMcpConfig } from './config/pep-mcp-config.ts';
export { readUpstreamServers, type UpstreamServerConfig } from './config/upstream-servers.ts';
export { readJsonRpcMessage } from './jsonrpc/json-rpc-reader.ts';

export interface RunningMcpPep {
  readonly host: string;
  readonly port: number;
  /** http(s)://host:port (or the configured public URL). */
  readonly url: string;
  /** The endpoint agents use for one server: `<url>/mcp/<name>`. */
  endpoint(server: string): string;
  /** Agent sessions open now, and whether the session record keeps up. */
  health(): PdpConnectionHealth & { readonly sessions: number };
  /** Stops accepting, ends every session (and its upstream process), ships the records, closes the PDP connections. */
  close(): Promise<void>;
}

export interface McpPepOptions {
  /** The process log; by default JSON lines on standard error. */
  readonly log?: LogFunction;
  /** Where secrets named by settings are read from, and what stdio servers inherit nothing of. */
  readonly env?: NodeJS.ProcessEnv;
}

/** What both fronts share: the PDP connection, and per server its resource's authorizer and recorders. */
function buildGateway(config: PepMcpConfig, log: LogFunction, env: NodeJS.ProcessEnv): { pdp: PdpConnection<(typeof MCP_MASK_KINDS)[number]>; servers: Map<string, ServerGate>; sessions: SessionFactoryDeps } {
  const pdp = new PdpConnection(config.pdp, { log, env, maskKinds: MCP_MASK_KINDS });
  const masker = new ResultMasker({ strategies: createMaskStrategyRegistry({ hashKey: maskHashKeyFromEnv(env) }) });
  const servers = new Map<string, ServerGate>();
  for (const server of config.servers) {
    const resource = resourceOf(server);
    servers.set(server.name, { config: server, authorizer: pdp.authorizer(resource), recorders: pdp.recorders(resource, 'mcp') });
  }
  const sessions: SessionFactoryDeps = { adapter: new McpProtocolAdapter(masker), masker, env, limits: config.limits, log };
  return { pdp, servers, sessions };
}

function resourceOf(server: UpstreamServerConfig): ResourceV1 {
  return {
    type: 'mcp',
    name: server.name,
    ...(server.environment ? { environment: server.environment } : {}),
    ...(Object.keys(server.labels).length > 0 ? { labels: { ...server.labels } } : {}),
  };
}

/** The composition root of the MCP gateway over Streamable HTTP: builds every part from config and listens. */
export async function startMcpPep(config: PepMcpConfig, options: McpPepOptions = {}): Promise<RunningMcpPep> {
  const env = options.env ?? process.env;
  const log = options.log ?? logFunction(createProcessLogger({ name: 'portcullis-pep-mcp', env }));
  const { pdp, servers, sessions } = buildGateway(config, log, env);
  const server = new HttpAgentServer({
    servers,
    sessions,
    tls: config.tls,
    publicUrl: config.publicUrl,
    oauth: config.oauth,
    allowedOrigins: config.allowedOrigins,
    maxSessions: config.limits.maxSessions,
    maxSessionsPerPrincipal: config.limits.maxSessionsPerPrincipal,
    sessionIdleMs: config.limits.sessionIdleMs,
    maxMessageBytes: config.limits.maxMessageBytes,
    log,
  });
  const address = await server.listen(config.listen.host, config.listen.port);
  const url = server.endpoint('').replace(/\/mcp\/$/, '');
  log(`listening on ${url} for ${[...servers.keys()].map((name) => `/mcp/${name}`).join(', ')}, PDP ${config.pdp.url}`, {
    address: address.address,
    port: address.port,
    servers: [...servers.keys()],
    pdp: config.pdp.url,
  });
  return {
    host: address.address,
    port: address.port,
    url,
    endpoint: (name) => server.endpoint(name),
    health: () => ({ ...pdp.health(), sessions: server.sessionCount }),
    async close() {
      await server.close();
      await pdp.close();
    },
  };
}

export interface StdioMcpPepOptions extends McpPepOptions {
  /** The server the agent reaches through the gateway. */
  readonly server: string;
  readonly input?: NodeJS.ReadableStream & import('node:stream').Readable;
  readonly output?: import('node:stream').Writable;
}

/** The gateway as a local agent's stdio server: one session, the token from the environment, ends with stdin. */
export async function runStdioMcpPep(config: PepMcpConfig, options: StdioMcpPepOptions): Promise<void> {
  const env = options.env ?? process.env;
  const log = options.log ?? logFunction(createProcessLogger({ name: 'portcullis-pep-mcp', env }));
  const { pdp, servers, sessions } = buildGateway(config, log, env);
  const server = servers.get(options.server);
  if (server === undefined) throw new Error(`no server named "${options.server}" in the servers file (known: ${[...servers.keys()].join(', ')})`);
  const agent = new StdioAgent({
    server,
    sessions,
    subjectToken: () => subjectTokenFrom(env),
    input: options.input ?? process.stdin,
    output: options.output ?? process.stdout,
    maxMessageBytes: config.limits.maxMessageBytes,
    log,
  });
  stopOnSignals(() => agent.close('pep-shutdown'), (error) => log(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`));
  await agent.done;
  await pdp.close();
}

/** PORTCULLIS_TOKEN (or the file PORTCULLIS_TOKEN_FILE names): the agent's own token, read when the session opens. */
function subjectTokenFrom(env: NodeJS.ProcessEnv): string {
  const file = env.PORTCULLIS_TOKEN_FILE;
  if (file) return readFileSync(file, 'utf8').trim();
  return env.PORTCULLIS_TOKEN?.trim() ?? '';
}

/** `portcullis-pep-mcp [stdio --server <name>]`: config from the environment, stop on SIGINT/SIGTERM. */
export async function runFromEnvironment(env: NodeJS.ProcessEnv, argv: readonly string[] = []): Promise<void> {
  const stdio = readStdioArguments(argv);
  // In stdio mode stdout carries the protocol: the log goes to stderr as JSON lines either way.
  const logger = createProcessLogger({ name: 'portcullis-pep-mcp', env });
  const config = loadPepMcpConfig(env);
  if (stdio !== undefined) return runStdioMcpPep(config, { env, log: logFunction(logger), server: stdio.server });
  const pep = await startMcpPep(config, { env, log: logFunction(logger) });
  stopOnSignals(() => pep.close(), (error) => logger.error({ err: error }, `shutdown failed: ${error instanceof Error ? error.message : String(error)}`));
}
