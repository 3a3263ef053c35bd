import { resolve } from 'node:path';
import { configFail, deepFreeze, envReader, integer, readableFile, readPdpConnectionConfig, type EnvRead, type PdpConnectionConfig } from '@portcullis/pep-core';
import { DEFAULT_KEEP_ALIVE_MS } from '../calls/progress-notifier.ts';
import { readUpstreamServers, type UpstreamServerConfig } from './upstream-servers.ts';

export interface PepMcpConfig {
  /** Where agents reach the gateway over Streamable HTTP (loopback unless told otherwise). */
  readonly listen: { readonly host: string; readonly port: number };
  /** TLS for the agent-facing endpoint, when given (MCP clients require HTTPS beyond loopback). */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** The gateway's address as agents know it (the protected resource's identifier); default the listening address. */
  readonly publicUrl: URL | undefined;
  readonly oauth: {
    /** The authorization servers agents get tokens from, as the protected-resource metadata names them. */
    readonly authorizationServers: readonly string[];
    readonly scopes: readonly string[];
  };
  /** Origins a browser-borne request may come from (any other Origin is refused: DNS rebinding). */
  readonly allowedOrigins: readonly string[];
  readonly servers: readonly UpstreamServerConfig[];
  readonly limits: {
    /** Agent sessions open at once (each has its own upstream connection or process). */
    readonly maxSessions: number;
    /** Agent sessions one principal may hold at once, so no one takes every seat. */
    readonly maxSessionsPerPrincipal: number;
    /** An agent session with no request for this long is ended. */
    readonly sessionIdleMs: number;
    /** A JSON-RPC message larger than this is refused before it is read. */
    readonly maxMessageBytes: number;
    /** How long the gateway waits for the server's answer to one request. */
    readonly upstreamTimeoutMs: number;
    /** How long starting or connecting an upstream server may take. */
    readonly upstreamConnectMs: number;
    /** How often a call held for approval is told again that it waits (keeps a client's request timeout from running out). */
    readonly progressKeepAliveMs: number;
  };
  readonly pdp: PdpConnectionConfig;
}

const PREFIX = 'PORTCULLIS_PEP_MCP_';

/** Reads PORTCULLIS_PEP_* and the servers file once, checks every value, and returns a frozen config. */
export function loadPepMcpConfig(env: NodeJS.ProcessEnv = process.env): PepMcpConfig {
  const read = envReader(env);
  const serversFile = read(`${PREFIX}SERVERS_FILE`) ?? configFail(`${PREFIX}SERVERS_FILE`, 'is required: a JSON or YAML file naming the MCP servers behind the gateway');

  const certFile = read('PORTCULLIS_PEP_TLS_CERT_FILE');
  const keyFile = read('PORTCULLIS_PEP_TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) configFail(certFile ? 'PORTCULLIS_PEP_TLS_KEY_FILE' : 'PORTCULLIS_PEP_TLS_CERT_FILE', 'set the TLS certificate and key files together');
  if (certFile) readableFile('PORTCULLIS_PEP_TLS_CERT_FILE', certFile);
  if (keyFile) readableFile('PORTCULLIS_PEP_TLS_KEY_FILE', keyFile);

  const config: PepMcpConfig = {
    listen: {
      host: read('PORTCULLIS_PEP_LISTEN_HOST') ?? '127.0.0.1',
      port: integer(read, 'PORTCULLIS_PEP_LISTEN_PORT', 8808, 0, 65535),
    },
    tls: certFile && keyFile ? { certFile: resolve(certFile), keyFile: resolve(keyFile) } : undefined,
    publicUrl: publicUrl(read),
    oauth: {
      // The PDP verifies the tokens: by default agents are sent to the issuer it trusts.
      authorizationServers: list(read(`${PREFIX}AUTHORIZATION_SERVERS`) ?? read('PORTCULLIS_OIDC_ISSUER')).map((server) => httpUrl(`${PREFIX}AUTHORIZATION_SERVERS`, server)),
      scopes: list(read(`${PREFIX}SCOPES`)),
    },
    allowedOrigins: list(read(`${PREFIX}ALLOWED_ORIGINS`)),
    servers: readUpstreamServers(serversFile, env),
    limits: {
      maxSessions: integer(read, `${PREFIX}MAX_SESSIONS`, 100, 1, 10_000),
      maxSessionsPerPrincipal: integer(read, `${PREFIX}MAX_SESSIONS_PER_PRINCIPAL`, 20, 1, 10_000),
      sessionIdleMs: integer(read, `${PREFIX}SESSION_IDLE_SECONDS`, 1800, 1, 86_400) * 1000,
      maxMessageBytes: integer(read, `${PREFIX}MAX_MESSAGE_BYTES`, 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
      upstreamTimeoutMs: integer(read, `${PREFIX}UPSTREAM_TIMEOUT_SECONDS`, 300, 1, 86_400) * 1000,
      upstreamConnectMs: integer(read, `${PREFIX}UPSTREAM_CONNECT_SECONDS`, 30, 1, 600) * 1000,
      progressKeepAliveMs: integer(read, `${PREFIX}PROGRESS_KEEPALIVE_MS`, DEFAULT_KEEP_ALIVE_MS, 50, 600_000),
    },
    pdp: readPdpConnectionConfig(read),
  };
  return deepFreeze(config);
}

function publicUrl(read: EnvRead): URL | undefined {
  const value = read(`${PREFIX}PUBLIC_URL`);
  if (value === undefined) return undefined;
  const url = new URL(httpUrl(`${PREFIX}PUBLIC_URL`, value));
  if (url.search || url.hash) configFail(`${PREFIX}PUBLIC_URL`, 'must have no query or fragment');
  return url;
}

function httpUrl(name: string, value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // Said below.
  }
  return configFail(name, `must be an http(s) URL (got "${value}")`);
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}
