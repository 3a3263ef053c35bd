import type { ActionAuthorizer, LogFunction, SessionRecorder, SessionV1 } from '@portcullis/pep-core';
import type { UpstreamServerConfig } from '../config/upstream-servers.ts';
import type { McpMask } from '../calls/mcp-masks.ts';
import type { McpProtocolAdapter } from '../calls/mcp-protocol-adapter.ts';
import type { ResultMasker } from '../results/result-masker.ts';
import { UpstreamConnection } from '../upstream/upstream-connection.ts';
import { upstreamTransport } from '../upstream/upstream-transport.ts';
import type { AgentChannel } from './agent-channel.ts';
import { McpSession } from './mcp-session.ts';
import type { MaskingAnswer } from './standing-masks.ts';

/** What the gateway holds per upstream server: its policy resource's authorizer and recorders. */
export interface ServerGate {
  readonly config: UpstreamServerConfig;
  readonly authorizer: ActionAuthorizer<McpMask>;
  readonly recorders: (session: { readonly id: string; readonly client_addr?: string }, subjectToken: string) => SessionRecorder;
}

export interface SessionFactoryDeps {
  readonly adapter: McpProtocolAdapter;
  readonly masker: ResultMasker;
  readonly env: NodeJS.ProcessEnv;
  readonly limits: { readonly upstreamTimeoutMs: number; readonly upstreamConnectMs: number; readonly progressKeepAliveMs: number };
  readonly log: LogFunction;
}

/** Opens an agent session on a server once its connect was allowed: its record starts, its upstream waits for initialize. */
export function openMcpSession(
  server: ServerGate,
  session: Required<Pick<SessionV1, 'id'>> & SessionV1,
  subjectToken: string,
  channel: AgentChannel,
  deps: SessionFactoryDeps,
  connectAnswer?: MaskingAnswer,
): McpSession {
  const recorder = server.recorders(session, subjectToken);
  recorder.start();
  return new McpSession(session.id, subjectToken, session, channel, {
    server: server.config.name,
    connectUpstream: (handlers) =>
      new UpstreamConnection(upstreamTransport(server.config, deps.env), { server: server.config.name, timeoutMs: deps.limits.upstreamTimeoutMs, connectMs: deps.limits.upstreamConnectMs, ...handlers }),
    adapter: deps.adapter,
    authorizer: server.authorizer,
    recorder,
    masker: deps.masker,
    agentTimeoutMs: deps.limits.upstreamTimeoutMs,
    progressKeepAliveMs: deps.limits.progressKeepAliveMs,
    log: deps.log,
    ...(connectAnswer === undefined ? {} : { connectAnswer }),
  });
}
