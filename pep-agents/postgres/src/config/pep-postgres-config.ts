import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { boolean, configFail, deepFreeze, envReader, integer } from '@portcullis/pep-core';

export interface PepPostgresConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly upstream: {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly user: string;
    /** Where the password comes from; it is read per connection and never logged. */
    readonly password: { readonly file: string } | { readonly env: string };
    readonly connectTimeoutMs: number;
  };
  readonly pdp: {
    readonly url: string;
    /** The PEP's own token (role pep): a file, re-read when it changes, or a value. */
    readonly token: { readonly file: string } | { readonly env: string };
    readonly timeoutMs: number;
    readonly approvalWaitMs: number;
  };
  /** Both or neither: with them, SSLRequest is answered with TLS. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Unencrypted sessions from other hosts (the token crosses the network in the clear). */
  readonly allowPlaintext: boolean;
  readonly resource: { readonly name: string; readonly environment: string | undefined };
  readonly limits: {
    readonly maxMessageBytes: number;
    readonly maxStartupBytes: number;
    readonly startupTimeoutMs: number;
    readonly maxConnections: number;
    /** On shutdown, how long session records still queued may take to reach the PDP. */
    readonly shutdownGraceMs: number;
  };
}

/** Reads PORTCULLIS_PEP_* once, checks every value, and returns a frozen config. */
export function loadPepPostgresConfig(env: NodeJS.ProcessEnv = process.env): PepPostgresConfig {
  const read = envReader(env);
  const required = (name: string): string => read(name) ?? configFail(name, 'is required');

  const passwordFile = read('PORTCULLIS_PEP_UPSTREAM_PASSWORD_FILE');
  const passwordSet = env.PORTCULLIS_PEP_UPSTREAM_PASSWORD !== undefined;
  if (passwordFile && passwordSet) configFail('PORTCULLIS_PEP_UPSTREAM_PASSWORD_FILE', 'set the password file or PORTCULLIS_PEP_UPSTREAM_PASSWORD, not both');
  if (!passwordFile && !passwordSet) configFail('PORTCULLIS_PEP_UPSTREAM_PASSWORD_FILE', 'is required (or PORTCULLIS_PEP_UPSTREAM_PASSWORD)');

  const tokenFile = read('PORTCULLIS_PEP_TOKEN_FILE');
  const tokenSet = read('PORTCULLIS_PEP_TOKEN') !== undefined;
  if (tokenFile && tokenSet) configFail('PORTCULLIS_PEP_TOKEN_FILE', 'set the token file or PORTCULLIS_PEP_TOKEN, not both');
  if (!tokenFile && !tokenSet) configFail('PORTCULLIS_PEP_TOKEN_FILE', 'is required (or PORTCULLIS_PEP_TOKEN)');

  const certFile = read('PORTCULLIS_PEP_TLS_CERT_FILE');
  const keyFile = read('PORTCULLIS_PEP_TLS_KEY_FILE');
  if (Boolean(certFile) !== Boolean(keyFile)) configFail(certFile ? 'PORTCULLIS_PEP_TLS_KEY_FILE' : 'PORTCULLIS_PEP_TLS_CERT_FILE', 'is required with the other TLS file');
  for (const [name, file] of [['PORTCULLIS_PEP_TLS_CERT_FILE', certFile], ['PORTCULLIS_PEP_TLS_KEY_FILE', keyFile], ['PORTCULLIS_PEP_UPSTREAM_PASSWORD_FILE', passwordFile], ['PORTCULLIS_PEP_TOKEN_FILE', tokenFile]] as const) {
    if (file) readable(name, file);
  }

  const pdpUrl = read('PORTCULLIS_PEP_PDP_URL') ?? 'http://127.0.0.1:8181';
  if (!/^https?:\/\/[^/]/.test(pdpUrl)) configFail('PORTCULLIS_PEP_PDP_URL', `must be an http(s) URL (got "${pdpUrl}")`);

  const config: PepPostgresConfig = {
    listen: {
      host: read('PORTCULLIS_PEP_LISTEN_HOST') ?? '127.0.0.1',
      port: integer(read, 'PORTCULLIS_PEP_LISTEN_PORT', 6543, 0, 65535),
    },
    upstream: {
      host: read('PORTCULLIS_PEP_UPSTREAM_HOST') ?? '127.0.0.1',
      port: integer(read, 'PORTCULLIS_PEP_UPSTREAM_PORT', 5432, 1, 65535),
      database: read('PORTCULLIS_PEP_UPSTREAM_DATABASE') ?? 'postgres',
      user: required('PORTCULLIS_PEP_UPSTREAM_USER'),
      password: passwordFile ? { file: resolve(passwordFile) } : { env: 'PORTCULLIS_PEP_UPSTREAM_PASSWORD' },
      connectTimeoutMs: integer(read, 'PORTCULLIS_PEP_UPSTREAM_CONNECT_TIMEOUT_SECONDS', 10, 1, 300) * 1000,
    },
    pdp: {
      url: pdpUrl,
      token: tokenFile ? { file: resolve(tokenFile) } : { env: 'PORTCULLIS_PEP_TOKEN' },
      timeoutMs: integer(read, 'PORTCULLIS_PEP_PDP_TIMEOUT_MS', 2000, 50, 60_000),
      approvalWaitMs: integer(read, 'PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS', 300, 0, 86_400) * 1000,
    },
    tls: certFile && keyFile ? { certFile: resolve(certFile), keyFile: resolve(keyFile) } : undefined,
    allowPlaintext: boolean(read, 'PORTCULLIS_PEP_ALLOW_PLAINTEXT', false),
    resource: {
      name: required('PORTCULLIS_PEP_RESOURCE_NAME'),
      environment: read('PORTCULLIS_PEP_RESOURCE_ENVIRONMENT'),
    },
    limits: {
      maxMessageBytes: integer(read, 'PORTCULLIS_PEP_MAX_MESSAGE_BYTES', 64 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
      maxStartupBytes: 10 * 1024,
      startupTimeoutMs: integer(read, 'PORTCULLIS_PEP_STARTUP_TIMEOUT_SECONDS', 60, 1, 600) * 1000,
      maxConnections: integer(read, 'PORTCULLIS_PEP_MAX_CONNECTIONS', 200, 1, 100_000),
      shutdownGraceMs: integer(read, 'PORTCULLIS_PEP_SHUTDOWN_GRACE_SECONDS', 10, 0, 600) * 1000,
    },
  };
  return deepFreeze(config);
}

function readable(name: string, file: string): void {
  try {
    readFileSync(resolve(file));
  } catch (error) {
    configFail(name, `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}



