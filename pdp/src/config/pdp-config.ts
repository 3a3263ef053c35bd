import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_AUDIENCE, DEV_CONSOLE_AUDIENCE } from '../identity/dev-issuer.ts';
import { PEP_RESOURCES_CLAIM } from '../identity/resource-binding.ts';
import { cacheDir, defaultStateDir } from './default-folders.ts';
import { auditRetention, jsonlRotation, type AuditRetention, type JsonlRotation } from './audit-retention-config.ts';
import { boolean, ConfigError, deepFreeze, envReader, integer, oneOf, optional, type EnvRead } from '@portcullis/contract/config-values';

export { ConfigError } from '@portcullis/contract/config-values';

/** The starter pack's prebuilt WASM bundle, shipped in @portcullis/policies: served when no policy source is set. */
export const STARTER_BUNDLE_PATH = fileURLToPath(import.meta.resolve('@portcullis/policies/bundle.tar.gz'));

export type PolicySourceConfig =
  | { readonly kind: 'rego-folder'; readonly folder: string }
  | { readonly kind: 'bundle-file'; readonly path: string }
  | { readonly kind: 'bundle-url'; readonly url: string; readonly pollSeconds: number; readonly token?: string };

export interface ShadowPolicyConfig {
  readonly source: PolicySourceConfig;
  /** Worker threads of the shadow's own engine: the live engine's are never shared with it. */
  readonly workers: number;
  /** Decisions waiting for the shadow; beyond it they are dropped (and counted), never waited for. */
  readonly maxQueued: number;
  /**
   * Linux niceness of the shadow's worker threads (0–19): a machine with no core to spare gives
   * them none, so the shadow falls behind and drops (counted) instead of slowing decisions.
   */
  readonly niceness: number;
}

export interface PdpConfig {
  readonly host: string;
  readonly port: number;
  readonly stateDir: string;
  /** Downloads and builds the PDP may need (the opa binary, only to serve a Rego folder). */
  readonly cacheDir: string;
  readonly policy: {
    readonly source: PolicySourceConfig;
    /** The opa binary that compiles a Rego folder; absent: found in (or built into) the cache. */
    readonly opaPath?: string;
    readonly verificationKeyFile?: string;
    readonly workers: number;
    readonly evalTimeoutMs: number;
    /** A candidate evaluated beside the live policy on every decision, off the answer's path (pdp/src/shadow/). */
    readonly shadow?: ShadowPolicyConfig;
  };
  readonly identity: {
    /** Without an external issuer the PDP trusts its own dev issuer (and says so at start). */
    readonly devIssuer: boolean;
    readonly issuer?: string;
    /** Required of agent (subject) and PEP tokens; refused on console sessions. */
    readonly audience: string;
    /** Required of console sessions (votes, the approvals socket, the console's APIs); refused as agent or PEP tokens. */
    readonly consoleAudience: string;
    readonly jwksUrl?: string;
    readonly jwksFile?: string;
    readonly algorithms?: string[];
    readonly clockSkewSeconds: number;
    readonly pepRole: string;
    /** The PEP token claim naming the resources it fronts (names or globs); a PEP token without it is refused. */
    readonly pepResourcesClaim: string;
    /** The key that seals decision ids (shared by replicas: same state folder or this file). */
    readonly decisionKeyFile: string;
  };
  readonly http: {
    readonly maxBodyBytes: number;
    /** Whether /v1/data requires a PEP token, as /v1/decisions does. */
    readonly dataApiAuth: boolean;
    /** Whether /metrics requires a token with one of `monitorRoles`. */
    readonly metricsAuth: boolean;
    /** Whether /health shows its detail (bundle, audit, approvals) only to a token with one of `monitorRoles`. */
    readonly healthDetailAuth: boolean;
    readonly monitorRoles: readonly string[];
  };
  readonly approvals: {
    /** Absent: approvals live in this process (one machine only; lost on restart). */
    readonly redis?:
      | { readonly kind: 'url'; readonly url: string; readonly prefix: string }
      | { readonly kind: 'sentinel'; readonly sentinels: readonly { host: string; port: number }[]; readonly name: string; readonly password?: string; readonly prefix: string }
      | { readonly kind: 'cluster'; readonly nodes: readonly { host: string; port: number }[]; readonly password?: string; readonly prefix: string };
    /** Upper bound on the TTL policy may ask for. */
    readonly maxTtlSeconds: number;
    /** Upper bound on the window an approval may open (policy's opt-in window_seconds). */
    readonly maxWindowSeconds: number;
    /** Upper bound on one long-poll wait. */
    readonly maxWaitSeconds: number;
    /** Pending approvals one principal may hold; beyond it a request is denied (`approvals-limit`). */
    readonly maxPendingPerPrincipal: number;
    /** Open approval WebSockets, in all and per principal (by subject). */
    readonly maxSockets: number;
    readonly maxSocketsPerPrincipal: number;
    /** Queue pages (WebSocket snapshot, GET /v1/approvals) hold at most this many approvals. */
    readonly pageSize: number;
    /** An action's text in a queue page is cut after this many characters (full text on demand). */
    readonly listedActionChars: number;
    /** Roles that may watch the queue (console, terminal); voting rights come from policy. */
    readonly consoleRoles: readonly string[];
    /** The PDP's public base URL: decision answers link approvers to the console there. */
    readonly publicUrl?: string;
    /** The console's OIDC client (authorization code + PKCE against the configured issuer). */
    readonly consoleOidc?: { readonly clientId: string; readonly scopes: string };
  };
  readonly audit: {
    /** The embedded sink's files, the Kafka spool and the digest signing key live here. */
    readonly directory: string;
    readonly maxQueuedEvents: number;
    readonly flushIntervalMs: number;
    readonly digestIntervalMs: number;
    readonly overflow: 'fail-closed' | 'fail-open';
    /**
     * `sync` (default): a decision is answered only once its record is durable (fsync'd, group
     * commit). `async` answers first and stores within the flush interval: a crash can lose
     * records of answered decisions.
     */
    readonly durability: 'sync' | 'async';
    /**
     * Verification (`audit verify|report`, the report route): the public keys to trust, given
     * out of band — a JWKS file, and/or RFC 7638 thumbprints the keys must have. Without either,
     * the JWKS beside the records is trusted, with a warning.
     */
    readonly trustedJwksFile?: string;
    readonly trustedKeyThumbprints: readonly string[];
    /** How long each stream is kept (AU-11), applied to the topics and the rotated JSONL files. */
    readonly retention: AuditRetention;
    /** When the embedded sink starts a new file per stream. */
    readonly rotation: JsonlRotation;
    /** `discard` keeps no trail at all: a benchmark baseline, never for use. */
    readonly discard: boolean;
    /** Present when audit goes to Kafka; absent for the embedded JSONL sink. */
    readonly kafka?: {
      readonly brokers: readonly string[];
      readonly topicPrefix: string;
      readonly partitions: number;
      readonly replicationFactor: number;
      readonly maxSpoolBytes: number;
      readonly compression: 'none' | 'gzip';
    };
  };
}

/** Reads PORTCULLIS_* variables once, checks them, and returns a frozen config. */
export function loadPdpConfig(env: NodeJS.ProcessEnv = process.env): PdpConfig {
  const read = envReader(env);
  const stateDir = resolve(read('PORTCULLIS_STATE_DIR') ?? defaultStateDir(env));
  const issuer = read('PORTCULLIS_OIDC_ISSUER');
  const config: PdpConfig = {
    host: read('PORTCULLIS_HOST') ?? '127.0.0.1',
    port: integer(read, 'PORTCULLIS_PORT', 8181, 0, 65535),
    stateDir,
    cacheDir: resolve(cacheDir(env)),
    policy: {
      source: policySource(read),
      ...optional('opaPath', read('PORTCULLIS_OPA_PATH')),
      ...optional('verificationKeyFile', read('PORTCULLIS_BUNDLE_VERIFICATION_KEY')),
      workers: integer(read, 'PORTCULLIS_POLICY_WORKERS', Math.max(1, availableParallelism() - 1), 0, 64),
      evalTimeoutMs: integer(read, 'PORTCULLIS_POLICY_EVAL_TIMEOUT_MS', 2000, 10, 60000),
      ...optional('shadow', shadowPolicy(read)),
    },
    identity: {
      devIssuer: issuer === undefined || read('PORTCULLIS_DEV_ISSUER') === 'true',
      ...optional('issuer', issuer),
      audience: read('PORTCULLIS_OIDC_AUDIENCE') ?? DEV_AUDIENCE,
      consoleAudience: read('PORTCULLIS_CONSOLE_AUDIENCE') ?? DEV_CONSOLE_AUDIENCE,
      ...optional('jwksUrl', read('PORTCULLIS_OIDC_JWKS_URL')),
      ...optional('jwksFile', read('PORTCULLIS_OIDC_JWKS_FILE')),
      ...optional('algorithms', read('PORTCULLIS_OIDC_ALGORITHMS')?.split(',').map((alg) => alg.trim())),
      clockSkewSeconds: integer(read, 'PORTCULLIS_OIDC_CLOCK_SKEW_SECONDS', 30, 0, 300),
      pepRole: read('PORTCULLIS_PEP_ROLE') ?? 'pep',
      pepResourcesClaim: read('PORTCULLIS_PEP_RESOURCES_CLAIM') ?? PEP_RESOURCES_CLAIM,
      decisionKeyFile: resolve(read('PORTCULLIS_DECISION_KEY_FILE') ?? `${stateDir}/decision-key/key`),
    },
    http: {
      maxBodyBytes: integer(read, 'PORTCULLIS_MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
      dataApiAuth: boolean(read, 'PORTCULLIS_DATA_API_AUTH', true),
      metricsAuth: boolean(read, 'PORTCULLIS_METRICS_AUTH', true),
      healthDetailAuth: boolean(read, 'PORTCULLIS_HEALTH_DETAIL_AUTH', true),
      monitorRoles: roleList(read, 'PORTCULLIS_MONITOR_ROLES', 'monitor,auditor'),
    },
    approvals: {
      ...optional('redis', redisConfig(read)),
      maxTtlSeconds: integer(read, 'PORTCULLIS_APPROVAL_MAX_TTL_SECONDS', 3600, 1, 7 * 86_400),
      maxWindowSeconds: integer(read, 'PORTCULLIS_APPROVAL_MAX_WINDOW_SECONDS', 8 * 3600, 1, 7 * 86_400),
      maxWaitSeconds: integer(read, 'PORTCULLIS_APPROVAL_MAX_WAIT_SECONDS', 60, 1, 3600),
      maxPendingPerPrincipal: integer(read, 'PORTCULLIS_APPROVAL_MAX_PENDING_PER_PRINCIPAL', 20, 1, 100_000),
      maxSockets: integer(read, 'PORTCULLIS_APPROVAL_MAX_SOCKETS', 1000, 1, 1_000_000),
      maxSocketsPerPrincipal: integer(read, 'PORTCULLIS_APPROVAL_MAX_SOCKETS_PER_PRINCIPAL', 20, 1, 1_000_000),
      pageSize: integer(read, 'PORTCULLIS_APPROVAL_PAGE_SIZE', 50, 1, 1000),
      listedActionChars: integer(read, 'PORTCULLIS_APPROVAL_LISTED_ACTION_CHARS', 4096, 256, 1024 * 1024),
      consoleRoles: roleList(read, 'PORTCULLIS_CONSOLE_ROLES', 'approver,auditor'),
      ...optional('publicUrl', urlValue(read, 'PORTCULLIS_PUBLIC_URL')),
      ...optional('consoleOidc', read('PORTCULLIS_CONSOLE_OIDC_CLIENT_ID') === undefined ? undefined : {
        clientId: read('PORTCULLIS_CONSOLE_OIDC_CLIENT_ID')!,
        scopes: read('PORTCULLIS_CONSOLE_OIDC_SCOPES') ?? 'openid profile',
      }),
    },
    audit: {
      directory: resolve(read('PORTCULLIS_AUDIT_DIR') ?? `${stateDir}/audit`),
      maxQueuedEvents: integer(read, 'PORTCULLIS_AUDIT_MAX_QUEUED_EVENTS', 100_000, 1, 10_000_000),
      flushIntervalMs: integer(read, 'PORTCULLIS_AUDIT_FLUSH_INTERVAL_MS', 20, 1, 10_000),
      digestIntervalMs: integer(read, 'PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS', 10, 1, 86_400) * 1000,
      overflow: oneOf(read, 'PORTCULLIS_AUDIT_OVERFLOW', ['fail-closed', 'fail-open'] as const, 'fail-closed'),
      durability: oneOf(read, 'PORTCULLIS_AUDIT_DURABILITY', ['sync', 'async'] as const, 'sync'),
      ...optional('trustedJwksFile', read('PORTCULLIS_AUDIT_TRUSTED_JWKS_FILE')),
      trustedKeyThumbprints: thumbprints(read('PORTCULLIS_AUDIT_TRUSTED_KEY_THUMBPRINT')),
      retention: auditRetention(read),
      rotation: jsonlRotation(read),
      discard: oneOf(read, 'PORTCULLIS_AUDIT_SINK', ['default', 'discard'] as const, 'default') === 'discard',
      ...optional('kafka', kafkaConfig(read)),
    },
  };
  if (config.identity.algorithms?.some((alg) => alg.toLowerCase() === 'none' || alg.startsWith('HS'))) {
    throw new ConfigError('PORTCULLIS_OIDC_ALGORITHMS', 'only asymmetric algorithms are allowed (none and HS* are refused)');
  }
  const { audience, consoleAudience } = config.identity;
  // One audience for both uses would let a PEP vote with an agent's token, or an agent act with a console session.
  if (consoleAudience === audience) throw new ConfigError('PORTCULLIS_CONSOLE_AUDIENCE', `must differ from PORTCULLIS_OIDC_AUDIENCE ("${audience}")`);
  if (config.approvals.consoleOidc?.clientId === audience) {
    throw new ConfigError('PORTCULLIS_CONSOLE_OIDC_CLIENT_ID', `must differ from PORTCULLIS_OIDC_AUDIENCE ("${audience}"): the console's ID tokens carry it as their audience`);
  }
  if (!/^[A-Za-z_][\w.:-]{0,127}$/.test(config.identity.pepResourcesClaim)) throw new ConfigError('PORTCULLIS_PEP_RESOURCES_CLAIM', 'must be a claim name');
  return deepFreeze(config);
}

function roleList(read: EnvRead, name: string, fallback: string): string[] {
  const roles = (read(name) ?? fallback).split(',').map((role) => role.trim()).filter(Boolean);
  if (roles.length === 0) throw new ConfigError(name, 'must name at least one role');
  return roles;
}

/** RFC 7638 SHA-256 thumbprints, base64url (43 characters), comma-separated. */
function thumbprints(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((item) => item.trim()).filter(Boolean);
  const bad = list.find((item) => !/^[A-Za-z0-9_-]{43}$/.test(item));
  if (bad !== undefined) throw new ConfigError('PORTCULLIS_AUDIT_TRUSTED_KEY_THUMBPRINT', `must be RFC 7638 SHA-256 JWK thumbprints (base64url, 43 characters), comma-separated (got "${bad}")`);
  return list;
}

function policySource(read: EnvRead): PolicySourceConfig {
  return configuredPolicySource(read, 'PORTCULLIS_') ?? { kind: 'bundle-file', path: STARTER_BUNDLE_PATH };
}

/** The same three kinds of source as the live policy's, under PORTCULLIS_SHADOW_*; none set: no shadow. */
function shadowPolicy(read: EnvRead): ShadowPolicyConfig | undefined {
  const source = configuredPolicySource(read, 'PORTCULLIS_SHADOW_');
  if (source === undefined) return undefined;
  return {
    source,
    workers: integer(read, 'PORTCULLIS_SHADOW_WORKERS', 1, 1, 64),
    maxQueued: integer(read, 'PORTCULLIS_SHADOW_MAX_QUEUED', 1000, 1, 1_000_000),
    niceness: integer(read, 'PORTCULLIS_SHADOW_NICENESS', 10, 0, 19),
  };
}

/** `<prefix>BUNDLE_URL`, `<prefix>BUNDLE_FILE` or `<prefix>POLICY_DIR` (at most one), or undefined. */
function configuredPolicySource(read: EnvRead, prefix: string): PolicySourceConfig | undefined {
  const url = read(`${prefix}BUNDLE_URL`);
  const file = read(`${prefix}BUNDLE_FILE`);
  const folder = read(`${prefix}POLICY_DIR`);
  if ([url, file, folder].filter(Boolean).length > 1) {
    throw new ConfigError(`${prefix}BUNDLE_URL/${prefix}BUNDLE_FILE/${prefix}POLICY_DIR`, 'set at most one policy source');
  }
  if (url) {
    if (!/^https?:\/\//.test(url)) throw new ConfigError(`${prefix}BUNDLE_URL`, 'must be an http(s) URL');
    const token = read(`${prefix}BUNDLE_TOKEN`);
    return { kind: 'bundle-url', url, pollSeconds: integer(read, `${prefix}BUNDLE_POLL_SECONDS`, 30, 1, 86400), ...optional('token', token) };
  }
  if (folder) return { kind: 'rego-folder', folder: resolve(folder) };
  if (file) return { kind: 'bundle-file', path: resolve(file) };
  return undefined;
}

function redisConfig(read: EnvRead): PdpConfig['approvals']['redis'] {
  const url = read('PORTCULLIS_REDIS_URL');
  const sentinels = read('PORTCULLIS_REDIS_SENTINELS');
  const cluster = read('PORTCULLIS_REDIS_CLUSTER_NODES');
  if ([url, sentinels, cluster].filter(Boolean).length > 1) {
    throw new ConfigError('PORTCULLIS_REDIS_URL/PORTCULLIS_REDIS_SENTINELS/PORTCULLIS_REDIS_CLUSTER_NODES', 'set at most one');
  }
  const prefix = read('PORTCULLIS_REDIS_PREFIX') ?? '{portcullis}';
  const password = read('PORTCULLIS_REDIS_PASSWORD');
  if (url) {
    if (!/^rediss?:\/\//.test(url)) throw new ConfigError('PORTCULLIS_REDIS_URL', 'must be a redis:// or rediss:// URL');
    return { kind: 'url', url, prefix };
  }
  if (sentinels) {
    const name = read('PORTCULLIS_REDIS_SENTINEL_NAME');
    if (!name) throw new ConfigError('PORTCULLIS_REDIS_SENTINEL_NAME', 'is required with PORTCULLIS_REDIS_SENTINELS');
    return { kind: 'sentinel', sentinels: hostPorts('PORTCULLIS_REDIS_SENTINELS', sentinels), name, prefix, ...optional('password', password) };
  }
  if (cluster) return { kind: 'cluster', nodes: hostPorts('PORTCULLIS_REDIS_CLUSTER_NODES', cluster), prefix, ...optional('password', password) };
  return undefined;
}

function hostPorts(variable: string, raw: string): { host: string; port: number }[] {
  return raw.split(',').map((entry) => {
    const match = /^\s*([\w.-]+):(\d+)\s*$/.exec(entry);
    if (match === null) throw new ConfigError(variable, `must be host:port[,host:port…] (got "${raw}")`);
    return { host: match[1]!, port: Number(match[2]) };
  });
}

function urlValue(read: EnvRead, name: string): string | undefined {
  const raw = read(name);
  if (raw === undefined) return undefined;
  if (!/^https?:\/\/[^\s]+$/.test(raw)) throw new ConfigError(name, `must be an http(s) URL (got "${raw}")`);
  return raw.replace(/\/+$/, '');
}

function kafkaConfig(read: EnvRead): NonNullable<PdpConfig['audit']['kafka']> | undefined {
  const brokers = read('PORTCULLIS_KAFKA_BROKERS');
  if (brokers === undefined) return undefined;
  const list = brokers.split(',').map((broker) => broker.trim()).filter(Boolean);
  if (list.some((broker) => !/^[\w.-]+:\d+$/.test(broker))) throw new ConfigError('PORTCULLIS_KAFKA_BROKERS', `must be host:port[,host:port…] (got "${brokers}")`);
  const prefix = read('PORTCULLIS_KAFKA_TOPIC_PREFIX') ?? 'portcullis';
  if (!/^[\w.-]+$/.test(prefix)) throw new ConfigError('PORTCULLIS_KAFKA_TOPIC_PREFIX', 'may hold letters, digits, ".", "_" and "-" only');
  return {
    brokers: list,
    topicPrefix: prefix,
    partitions: integer(read, 'PORTCULLIS_KAFKA_PARTITIONS', 3, 1, 1000),
    replicationFactor: integer(read, 'PORTCULLIS_KAFKA_REPLICATION_FACTOR', 1, 1, 10),
    maxSpoolBytes: integer(read, 'PORTCULLIS_AUDIT_SPOOL_MAX_BYTES', 1024 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER),
    compression: oneOf(read, 'PORTCULLIS_KAFKA_COMPRESSION', ['none', 'gzip'] as const, 'gzip'),
  };
}
