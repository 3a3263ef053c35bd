import { resolve } from 'node:path';
import { boolean, configFail, deepFreeze, envReader, integer, readableFile, readPdpConnectionConfig, type EnvRead, type PdpConnectionConfig, type SecretSource } from '@portcullis/pep-core';

/** The PEP's credential towards the API server, read from a secret source per use (rotation works). */
export type UpstreamCredentialConfig =
  | { readonly kind: 'token'; readonly token: SecretSource }
  | { readonly kind: 'client-certificate'; readonly certFile: string; readonly keyFile: string };

export interface PepKubernetesConfig {
  readonly listen: { readonly host: string; readonly port: number };
  /** Where the PEP keeps its TLS certificate when none is given (created on first start, then kept). */
  readonly stateDir: string;
  /** The PEP's serving certificate and key, when given rather than kept in the state folder. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** The host names and addresses a certificate the PEP creates is made for. */
  readonly tlsNames: readonly string[];
  readonly upstream: {
    readonly url: URL;
    readonly caFile: string;
    /** The name the API server's certificate must carry, when not the URL's host. */
    readonly serverName: string | undefined;
    readonly credential: UpstreamCredentialConfig;
    readonly connectTimeoutMs: number;
  };
  /** Requests reach the API server as the principal (Impersonate-User/-Group), so its RBAC and audit log see who it was. */
  readonly impersonation: {
    readonly enabled: boolean;
    readonly userPrefix: string;
    readonly groupPrefix: string;
    /** Groups every impersonated request carries besides the principal's roles. */
    readonly extraGroups: readonly string[];
  };
  /** Header names (lower-case, `prefix*` allowed) refused like Impersonate-*: the cluster's --requestheader-* names, say. */
  readonly identityHeaders: readonly string[];
  readonly limits: {
    readonly maxConnections: number;
    /** Request bodies beyond this are refused (413) before anything is decided. */
    readonly maxBodyBytes: number;
    /** How long a discovery or OpenAPI answer is served from the PEP's cache (0: not cached). */
    readonly discoveryCacheMs: number;
  };
  readonly pdp: PdpConnectionConfig;
  readonly resource: { readonly name: string; readonly environment: string | undefined };
}

const PREFIX = 'PORTCULLIS_PEP_KUBERNETES_';

/** Reads PORTCULLIS_PEP_* once, checks every value, and returns a frozen config. */
export function loadPepKubernetesConfig(env: NodeJS.ProcessEnv = process.env): PepKubernetesConfig {
  const read = envReader(env);
  const required = (name: string): string => read(name) ?? configFail(name, 'is required');

  const certFile = read('PORTCULLIS_PEP_TLS_CERT_FILE');
  const keyFile = read('PORTCULLIS_PEP_TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) configFail(certFile ? 'PORTCULLIS_PEP_TLS_KEY_FILE' : 'PORTCULLIS_PEP_TLS_CERT_FILE', 'set the TLS certificate and key files together');
  if (certFile) readableFile('PORTCULLIS_PEP_TLS_CERT_FILE', certFile);
  if (keyFile) readableFile('PORTCULLIS_PEP_TLS_KEY_FILE', keyFile);

  const urlText = required(`${PREFIX}UPSTREAM_URL`);
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    configFail(`${PREFIX}UPSTREAM_URL`, `must be an https URL (got "${urlText}")`);
  }
  if (url.protocol !== 'https:') configFail(`${PREFIX}UPSTREAM_URL`, `must be an https URL (got "${urlText}")`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) configFail(`${PREFIX}UPSTREAM_URL`, 'must be the API server origin, https://host:port, with no path, query or user');
  const caFile = required(`${PREFIX}UPSTREAM_CA_FILE`);
  readableFile(`${PREFIX}UPSTREAM_CA_FILE`, caFile);

  const config: PepKubernetesConfig = {
    listen: {
      host: read('PORTCULLIS_PEP_LISTEN_HOST') ?? '127.0.0.1',
      port: integer(read, 'PORTCULLIS_PEP_LISTEN_PORT', 6443, 0, 65535),
    },
    stateDir: resolve(required('PORTCULLIS_PEP_STATE_DIR')),
    tls: certFile && keyFile ? { certFile: resolve(certFile), keyFile: resolve(keyFile) } : undefined,
    tlsNames: list(read('PORTCULLIS_PEP_TLS_NAMES') ?? 'localhost,127.0.0.1,::1'),
    upstream: {
      url,
      caFile: resolve(caFile),
      serverName: read(`${PREFIX}UPSTREAM_SERVER_NAME`),
      credential: upstreamCredential(read),
      connectTimeoutMs: integer(read, `${PREFIX}UPSTREAM_TIMEOUT_SECONDS`, 10, 1, 300) * 1000,
    },
    impersonation: {
      enabled: boolean(read, `${PREFIX}IMPERSONATE`, false),
      userPrefix: read(`${PREFIX}IMPERSONATE_USER_PREFIX`) ?? 'portcullis:',
      groupPrefix: read(`${PREFIX}IMPERSONATE_GROUP_PREFIX`) ?? 'portcullis:',
      extraGroups: list(read(`${PREFIX}IMPERSONATE_GROUPS`)),
    },
    identityHeaders: list(read(`${PREFIX}IDENTITY_HEADERS`)).map((name) => name.toLowerCase()),
    limits: {
      maxConnections: integer(read, 'PORTCULLIS_PEP_MAX_CONNECTIONS', 1000, 1, 100_000),
      maxBodyBytes: integer(read, `${PREFIX}MAX_BODY_BYTES`, 3 * 1024 * 1024, 1024, 64 * 1024 * 1024),
      discoveryCacheMs: integer(read, `${PREFIX}DISCOVERY_CACHE_SECONDS`, 10, 0, 3600) * 1000,
    },
    pdp: readPdpConnectionConfig(read),
    resource: {
      name: required('PORTCULLIS_PEP_RESOURCE_NAME'),
      environment: read('PORTCULLIS_PEP_RESOURCE_ENVIRONMENT'),
    },
  };
  return deepFreeze(config);
}

function upstreamCredential(read: EnvRead): UpstreamCredentialConfig {
  const tokenFile = read(`${PREFIX}UPSTREAM_TOKEN_FILE`);
  const tokenSet = read(`${PREFIX}UPSTREAM_TOKEN`) !== undefined;
  const certFile = read(`${PREFIX}UPSTREAM_CLIENT_CERT_FILE`);
  const keyFile = read(`${PREFIX}UPSTREAM_CLIENT_KEY_FILE`);
  const given = [tokenFile !== undefined, tokenSet, certFile !== undefined || keyFile !== undefined].filter(Boolean).length;
  if (given !== 1) configFail(`${PREFIX}UPSTREAM_TOKEN_FILE`, `set exactly one credential: ${PREFIX}UPSTREAM_TOKEN_FILE, ${PREFIX}UPSTREAM_TOKEN, or ${PREFIX}UPSTREAM_CLIENT_CERT_FILE with ${PREFIX}UPSTREAM_CLIENT_KEY_FILE`);
  if (tokenFile) {
    readableFile(`${PREFIX}UPSTREAM_TOKEN_FILE`, tokenFile);
    return { kind: 'token', token: { file: resolve(tokenFile) } };
  }
  if (tokenSet) return { kind: 'token', token: { env: `${PREFIX}UPSTREAM_TOKEN` } };
  if (!certFile || !keyFile) configFail(`${PREFIX}UPSTREAM_CLIENT_CERT_FILE`, `set the client certificate and ${PREFIX}UPSTREAM_CLIENT_KEY_FILE together`);
  readableFile(`${PREFIX}UPSTREAM_CLIENT_CERT_FILE`, certFile);
  readableFile(`${PREFIX}UPSTREAM_CLIENT_KEY_FILE`, keyFile);
  return { kind: 'client-certificate', certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}
