import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { listenOn, type LogFunction } from '@portcullis/pep-core';
import { JSON_RPC_ERROR, jsonRpcError } from '../jsonrpc/json-rpc-errors.ts';
import type { JsonRpcError, JsonRpcMessage } from '../jsonrpc/json-rpc-message.ts';
import { isRequest } from '../jsonrpc/json-rpc-message.ts';
import { readJsonRpcMessage } from '../jsonrpc/json-rpc-reader.ts';
import type { McpSession } from '../session/mcp-session.ts';
import { openMcpSession, type ServerGate, type SessionFactoryDeps } from '../session/session-factory.ts';
import { AgentHttpStreams } from './agent-http-streams.ts';
import { decideConnect, tokenExpired } from './connect-decision.ts';
import { METADATA_PATH, protectedResourceMetadata, writeChallenge, type ProtectedResourceSettings } from './protected-resource.ts';
import { readBoundedBody } from './bounded-body.ts';

export interface HttpAgentServerDeps {
  readonly servers: ReadonlyMap<string, ServerGate>;
  readonly sessions: SessionFactoryDeps;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** The gateway's address as agents know it; undefined: the address it listens on. */
  readonly publicUrl: URL | undefined;
  readonly oauth: ProtectedResourceSettings;
  readonly allowedOrigins: readonly string[];
  readonly maxSessions: number;
  readonly maxSessionsPerPrincipal: number;
  readonly sessionIdleMs: number;
  readonly maxMessageBytes: number;
  readonly log: LogFunction;
}

/** One agent session over Streamable HTTP: its streams carry the messages, the session routes them. */
interface HttpSession {
  readonly server: string;
  readonly transport: AgentHttpStreams;
  readonly session: McpSession;
  /** The SHA-256 of the token the session holds now (compared in constant time; the token itself stays with the session). */
  tokenDigest: Buffer;
  /** The principal the session was opened for (a refreshed token must name the same one). */
  readonly principal: string | null;
  expiresAt: number;
  lastSeen: number;
}

const ENDPOINT = /^\/mcp\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})\/?$/;

/**
 * The agent-facing Streamable HTTP endpoint, one per upstream server (`/mcp/<name>`): the OAuth
 * resource server (a bearer token on every request, the PDP's connect decision at initialize),
 * the strict reading of every POSTed message, and a bounded table of sessions each with its own
 * upstream connection. Messages reach a session only once read, admitted and tied to its token.
 */
export class HttpAgentServer {
  private readonly server: Server;
  private readonly sessions = new Map<string, HttpSession>();
  /** Initializes past the limit check and waiting for their connect decision: each holds a seat. */
  private opening = 0;
  private readonly sweeper: NodeJS.Timeout;
  private baseUrl = '';

  constructor(private readonly deps: HttpAgentServerDeps) {
    this.server = deps.tls ? createHttpsServer({ cert: readFileSync(deps.tls.certFile), key: readFileSync(deps.tls.keyFile) }) : createHttpServer();
    this.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.onRequest(request, response).catch((error: unknown) => {
        deps.log(`request handling failed: ${error instanceof Error ? error.message : String(error)}`);
        if (!response.headersSent) writeJson(response, 500, jsonRpcError(null, JSON_RPC_ERROR.internalError, 'portcullis: the gateway could not handle the request'));
        else response.destroy();
      });
    });
    this.sweeper = setInterval(() => this.endIdleSessions(), Math.min(deps.sessionIdleMs, 60_000)).unref();
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    const address = await listenOn(this.server, host, port);
    const shownHost = address.address.includes(':') ? `[${address.address}]` : address.address;
    this.baseUrl = (this.deps.publicUrl?.href ?? `${this.deps.tls ? 'https' : 'http'}://${shownHost}:${address.port}`).replace(/\/$/, '');
    return address;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The URL agents use for a server. */
  endpoint(server: string): string {
    return `${this.baseUrl}/mcp/${server}`;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.sessions.values()].map((entry) => this.endSession(entry, 'pep-shutdown')));
    this.server.closeAllConnections();
    await closed;
  }

  private async onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://gateway').pathname;
    if (path === METADATA_PATH || path.startsWith(`${METADATA_PATH}/`)) return this.metadata(request, response, path.slice(METADATA_PATH.length));
    const name = ENDPOINT.exec(path)?.[1];
    const server = name === undefined ? undefined : this.deps.servers.get(name);
    if (name === undefined || server === undefined) return writeJson(response, 404, jsonRpcError(null, JSON_RPC_ERROR.invalidRequest, 'portcullis: no MCP server here; the gateway serves /mcp/<server>'));
    const origin = request.headers.origin;
    if (origin !== undefined && !this.deps.allowedOrigins.includes(origin)) return writeJson(response, 403, jsonRpcError(null, JSON_RPC_ERROR.invalidRequest, 'portcullis: requests from this origin are not accepted'));
    if (!['POST', 'GET', 'DELETE'].includes(request.method ?? '')) {
      response.setHeader('allow', 'GET, POST, DELETE');
      return writeJson(response, 405, jsonRpcError(null, JSON_RPC_ERROR.invalidRequest, 'portcullis: use POST, GET or DELETE'));
    }
    const metadataUrl = `${this.baseUrl}${METADATA_PATH}/mcp/${name}`;
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      request.resume();
      return writeChallenge(response, metadataUrl, undefined, this.deps.oauth.scopes);
    }

    let message: JsonRpcMessage | undefined;
    if (request.method === 'POST') {
      const body = await readBoundedBody(request, this.deps.maxMessageBytes);
      if (body === undefined) return writeJson(response, 413, jsonRpcError(null, JSON_RPC_ERROR.invalidRequest, `portcullis: the message is larger than ${this.deps.maxMessageBytes} bytes`), { close: true });
      const read = readJsonRpcMessage(body, this.deps.maxMessageBytes);
      if ('error' in read) return writeJson(response, read.tooLarge ? 413 : 400, read.error);
      message = read.message;
    }

    const sessionId = request.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const entry = this.sessions.get(sessionId);
      if (entry === undefined || entry.server !== name) return writeJson(response, 404, jsonRpcError(null, -32001, 'portcullis: session not found; initialize a new session'));
      if (!(await this.admitToken(entry, token, response, metadataUrl))) return;
      entry.lastSeen = Date.now();
      return entry.transport.handle(request, response, message);
    }
    if (message === undefined || !isRequest(message) || message.method !== 'initialize') {
      return writeJson(response, 400, jsonRpcError(message && isRequest(message) ? message.id : null, JSON_RPC_ERROR.invalidRequest, 'portcullis: an Mcp-Session-Id header is required (initialize a session first)'));
    }
    return this.initialize(request, response, message, server, token, metadataUrl);
  }

  /** An initialize with no session: the connect decision, then a new session with its own upstream. */
  private async initialize(request: IncomingMessage, response: ServerResponse, message: JsonRpcMessage, server: ServerGate, token: string, metadataUrl: string): Promise<void> {
    const id = isRequest(message) ? message.id : null;
    // A seat is taken before the connect decision is awaited: initializes sent together cannot all pass the check.
    if (this.sessions.size + this.opening >= this.deps.maxSessions) {
      response.setHeader('retry-after', '5');
      return writeJson(response, 503, jsonRpcError(id, JSON_RPC_ERROR.serverUnavailable, 'portcullis: the gateway has as many sessions open as it takes; try again shortly'));
    }
    const sessionId = randomUUID();
    const clientAddr = request.socket.remoteAddress;
    const session = { id: sessionId, ...(clientAddr ? { client_addr: clientAddr } : {}) };
    this.opening += 1;
    let verdict: Awaited<ReturnType<typeof decideConnect>>;
    try {
      verdict = await decideConnect(server.authorizer, token, session);
    } finally {
      this.opening -= 1;
    }
    if (!verdict.allowed) {
      if (verdict.refusal.kind === 'unauthenticated') return writeChallenge(response, metadataUrl, { description: verdict.refusal.message }, this.deps.oauth.scopes);
      const status = verdict.refusal.kind === 'unavailable' ? 503 : 403;
      const code = verdict.refusal.kind === 'unavailable' ? JSON_RPC_ERROR.internalError : JSON_RPC_ERROR.refused;
      return writeJson(response, status, jsonRpcError(id, code, verdict.refusal.hint ? `${verdict.refusal.message}; ${verdict.refusal.hint}` : verdict.refusal.message));
    }
    // From here to the table's entry nothing is awaited, so the count below is the table's.
    const principal = verdict.answer.principal.sub;
    if ([...this.sessions.values()].filter((open) => open.principal === principal).length >= this.deps.maxSessionsPerPrincipal) {
      response.setHeader('retry-after', '5');
      return writeJson(response, 429, jsonRpcError(id, JSON_RPC_ERROR.serverUnavailable, `portcullis: this principal has ${this.deps.maxSessionsPerPrincipal} sessions open, as many as one may; end one first`));
    }
    const transport = new AgentHttpStreams(sessionId);
    const mcpSession = openMcpSession(server, session, token, { send: (outgoing, relatedRequestId) => transport.send(outgoing, relatedRequestId) }, this.deps.sessions, verdict.answer);
    const entry: HttpSession = {
      server: server.config.name,
      transport,
      session: mcpSession,
      tokenDigest: digestOf(token),
      principal,
      expiresAt: expiryOf(verdict.answer.principal.expires_at),
      lastSeen: Date.now(),
    };
    transport.onmessage = (incoming) => void mcpSession.handleAgentMessage(incoming);
    transport.onclose = () => void this.endSession(entry, 'client-closed');
    this.sessions.set(sessionId, entry);
    transport.handle(request, response, message);
    // An initialize the transport did not take (not in its shape) opened nothing: the session is not kept.
    if (!transport.isInitialized) return this.endSession(entry, 'not-initialized');
    this.deps.log('MCP session opened', { session: sessionId, server: server.config.name });
  }

  /**
   * Every request of a session carries a token: the one it was opened with while it holds, or a
   * refreshed one the PDP accepts for the same principal. Anything else is refused as OAuth says.
   */
  private async admitToken(entry: HttpSession, token: string, response: ServerResponse, metadataUrl: string): Promise<boolean> {
    if (timingSafeEqual(digestOf(token), entry.tokenDigest)) {
      if (entry.expiresAt > Date.now()) return true;
      writeChallenge(response, metadataUrl, { description: 'the token has expired' }, this.deps.oauth.scopes);
      return false;
    }
    const server = this.deps.servers.get(entry.server)!;
    const verdict = await decideConnect(server.authorizer, token, { id: entry.session.id });
    if (verdict.allowed && verdict.answer.principal.sub === entry.principal && !tokenExpired(verdict.answer)) {
      entry.tokenDigest = digestOf(token);
      entry.expiresAt = expiryOf(verdict.answer.principal.expires_at);
      entry.session.useToken(token);
      return true;
    }
    if (!verdict.allowed && verdict.refusal.kind === 'unavailable') {
      writeJson(response, 503, jsonRpcError(null, JSON_RPC_ERROR.internalError, verdict.refusal.message));
      return false;
    }
    const description = verdict.allowed ? 'the token names another principal than the session was opened for; initialize a new session' : verdict.refusal.message;
    writeChallenge(response, metadataUrl, { description }, this.deps.oauth.scopes);
    return false;
  }

  private metadata(request: IncomingMessage, response: ServerResponse, resourcePath: string): void {
    if (request.method !== 'GET') {
      response.setHeader('allow', 'GET');
      return writeJson(response, 405, { error: 'method not allowed' });
    }
    const name = resourcePath === '' ? undefined : ENDPOINT.exec(resourcePath)?.[1];
    if (resourcePath !== '' && (name === undefined || !this.deps.servers.has(name))) return writeJson(response, 404, { error: 'no such protected resource' });
    const resource = name === undefined ? this.baseUrl : this.endpoint(name);
    writeJson(response, 200, protectedResourceMetadata(resource, this.deps.oauth));
  }

  private endIdleSessions(): void {
    const idleSince = Date.now() - this.deps.sessionIdleMs;
    for (const entry of this.sessions.values()) {
      // A request held for approval may outlast the idle bound: a session is idle only with none in progress.
      if (Math.max(entry.lastSeen, entry.transport.lastAnsweredAt) < idleSince && !entry.session.busy) void this.endSession(entry, 'idle');
    }
  }

  private async endSession(entry: HttpSession, reason: string): Promise<void> {
    const id = entry.session.id;
    if (!this.sessions.delete(id)) return;
    if (reason !== 'not-initialized') this.deps.log('MCP session ended', { session: id, server: entry.server, reason });
    await entry.session.close(reason);
    await entry.transport.close().catch(() => undefined);
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

function digestOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function expiryOf(expiresAt: string | undefined): number {
  return expiresAt === undefined ? Infinity : Date.parse(expiresAt);
}

function writeJson(response: ServerResponse, status: number, body: JsonRpcError | Record<string, unknown>, options: { close?: boolean } = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(options.close ? { connection: 'close' } : {}) });
  response.end(text);
}
