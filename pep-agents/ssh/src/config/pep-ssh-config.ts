import { resolve } from 'node:path';
import { configFail, deepFreeze, envReader, integer, oneOf, readableFile, readPdpConnectionConfig, type PdpConnectionConfig, type SecretSource } from '@portcullis/pep-core';
import { checkEnvAllowList } from '../channels/env-allow-list.ts';

/** How the upstream host's key is checked against the pinned known_hosts file. */
export const HOST_KEY_CHECKS = ['strict', 'accept-new'] as const;
export type HostKeyCheck = (typeof HOST_KEY_CHECKS)[number];

/** The shells whose language the PDP's command parser models (mvdan-sh in bash mode). */
export const MODELLED_SHELLS = ['bash'] as const;
export type ModelledShell = (typeof MODELLED_SHELLS)[number];

export interface PepSshConfig {
  readonly listen: { readonly host: string; readonly port: number };
  /** Where the PEP keeps its own host key (created on first start, then kept). */
  readonly stateDir: string;
  readonly upstream: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    /** The private key the PEP logs in with; read per connection, never shown or logged. */
    readonly privateKey: SecretSource;
    readonly knownHostsFile: string;
    /** strict: an unknown or changed key refuses; accept-new (development): the first key seen is pinned. */
    readonly hostKeyCheck: HostKeyCheck;
    /** The shell that must run commands upstream: the one the PDP's parser judged them in. */
    readonly shell: ModelledShell;
    readonly connectTimeoutMs: number;
  };
  readonly pdp: PdpConnectionConfig;
  readonly resource: { readonly name: string; readonly environment: string | undefined };
  /** Names (or `PREFIX*` patterns) of `env` requests passed upstream; every other is refused. */
  readonly envAllowList: readonly string[];
  readonly limits: {
    readonly maxConnections: number;
    /** From TCP accept to a decided login. */
    readonly loginTimeoutMs: number;
    /** Session channels open at once on one connection (sshd's MaxSessions); more are refused. */
    readonly maxSessionsPerConnection: number;
    /** Connections not logged in yet, in all and from one source address; more are closed at once. */
    readonly maxStartups: number;
    readonly maxStartupsPerSource: number;
  };
}

/** Reads PORTCULLIS_PEP_* once, checks every value, and returns a frozen config. */
export function loadPepSshConfig(env: NodeJS.ProcessEnv = process.env): PepSshConfig {
  const read = envReader(env);
  const required = (name: string): string => read(name) ?? configFail(name, 'is required');

  const keyFile = read('PORTCULLIS_PEP_SSH_UPSTREAM_KEY_FILE');
  const keySet = read('PORTCULLIS_PEP_SSH_UPSTREAM_KEY') !== undefined;
  if (keyFile && keySet) configFail('PORTCULLIS_PEP_SSH_UPSTREAM_KEY_FILE', 'set the key file or PORTCULLIS_PEP_SSH_UPSTREAM_KEY, not both');
  if (!keyFile && !keySet) configFail('PORTCULLIS_PEP_SSH_UPSTREAM_KEY_FILE', 'is required (or PORTCULLIS_PEP_SSH_UPSTREAM_KEY)');
  if (keyFile) readableFile('PORTCULLIS_PEP_SSH_UPSTREAM_KEY_FILE', keyFile);

  const hostKeyCheck = oneOf(read, 'PORTCULLIS_PEP_SSH_UPSTREAM_HOST_KEY_CHECK', HOST_KEY_CHECKS, 'strict');
  const knownHostsFile = required('PORTCULLIS_PEP_SSH_UPSTREAM_KNOWN_HOSTS');
  // accept-new writes the first key it sees; strict needs the pinned entry there from the start.
  if (hostKeyCheck === 'strict') readableFile('PORTCULLIS_PEP_SSH_UPSTREAM_KNOWN_HOSTS', knownHostsFile);

  const envAllowList = (read('PORTCULLIS_PEP_SSH_ENV_ALLOW') ?? 'LANG,LC_*,TERM')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  checkEnvAllowList('PORTCULLIS_PEP_SSH_ENV_ALLOW', envAllowList);

  const config: PepSshConfig = {
    listen: {
      host: read('PORTCULLIS_PEP_LISTEN_HOST') ?? '127.0.0.1',
      port: integer(read, 'PORTCULLIS_PEP_LISTEN_PORT', 2222, 0, 65535),
    },
    stateDir: resolve(required('PORTCULLIS_PEP_STATE_DIR')),
    upstream: {
      host: read('PORTCULLIS_PEP_SSH_UPSTREAM_HOST') ?? '127.0.0.1',
      port: integer(read, 'PORTCULLIS_PEP_SSH_UPSTREAM_PORT', 22, 1, 65535),
      user: required('PORTCULLIS_PEP_SSH_UPSTREAM_USER'),
      privateKey: keyFile ? { file: resolve(keyFile) } : { env: 'PORTCULLIS_PEP_SSH_UPSTREAM_KEY' },
      knownHostsFile: resolve(knownHostsFile),
      hostKeyCheck,
      shell: oneOf(read, 'PORTCULLIS_PEP_SSH_UPSTREAM_SHELL', MODELLED_SHELLS, 'bash'),
      connectTimeoutMs: integer(read, 'PORTCULLIS_PEP_SSH_UPSTREAM_CONNECT_TIMEOUT_SECONDS', 10, 1, 300) * 1000,
    },
    pdp: readPdpConnectionConfig(read),
    resource: {
      name: required('PORTCULLIS_PEP_RESOURCE_NAME'),
      environment: read('PORTCULLIS_PEP_RESOURCE_ENVIRONMENT'),
    },
    envAllowList,
    limits: {
      maxConnections: integer(read, 'PORTCULLIS_PEP_MAX_CONNECTIONS', 200, 1, 100_000),
      loginTimeoutMs: integer(read, 'PORTCULLIS_PEP_LOGIN_TIMEOUT_SECONDS', 60, 1, 600) * 1000,
      maxSessionsPerConnection: integer(read, 'PORTCULLIS_PEP_SSH_MAX_SESSIONS', 10, 1, 1000),
      maxStartups: integer(read, 'PORTCULLIS_PEP_SSH_MAX_STARTUPS', 64, 1, 100_000),
      maxStartupsPerSource: integer(read, 'PORTCULLIS_PEP_SSH_MAX_STARTUPS_PER_SOURCE', 10, 1, 100_000),
    },
  };
  return deepFreeze(config);
}
