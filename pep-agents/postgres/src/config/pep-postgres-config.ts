import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { boolean, configFail, deepFreeze, envReader, integer, oneOf, readableFile, readPdpConnectionConfig, type EnvRead, type PdpConnectionConfig, type SecretSource } from '@portcullis/pep-core';
import { UPSTREAM_SSL_MODES, type UpstreamSslMode, type UpstreamTlsSettings } from '../upstream/upstream-tls-settings.ts';

export interface PepPostgresConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly upstream: {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly user: string;
    /** Where the password comes from; it is read per connection and never logged. */
    readonly password: SecretSource;
    readonly connectTimeoutMs: number;
    /** TLS to the server: sessions, cancel requests and the catalog pool alike. */
    readonly tls: UpstreamTlsSettings;
  };
  /** The PDP, the PEP's token for it, the approval wait, the shutdown grace for session records. */
  readonly pdp: PdpConnectionConfig;
  /** Both or neither: with them, SSLRequest is answered with TLS. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Unencrypted sessions from other hosts (the token crosses the network in the clear). */
  readonly allowPlaintext: boolean;
  readonly resource: { readonly name: string; readonly environment: string | undefined };
  /**
   * Statement shapes per session whose allow the PDP granted reuse for (0: ask about every text,
   * whatever the PDP grants). Policy decides whether and how long a decision may be reused.
   */
  readonly decisionReuseShapes: number;
  readonly limits: {
    readonly maxMessageBytes: number;
    readonly maxStartupBytes: number;
    readonly startupTimeoutMs: number;
    readonly maxConnections: number;
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

  const pdp = readPdpConnectionConfig(read);

  const certFile = read('PORTCULLIS_PEP_TLS_CERT_FILE');
  const keyFile = read('PORTCULLIS_PEP_TLS_KEY_FILE');
  if (Boolean(certFile) !== Boolean(keyFile)) configFail(certFile ? 'PORTCULLIS_PEP_TLS_KEY_FILE' : 'PORTCULLIS_PEP_TLS_CERT_FILE', 'is required with the other TLS file');
  for (const [name, file] of [['PORTCULLIS_PEP_TLS_CERT_FILE', certFile], ['PORTCULLIS_PEP_TLS_KEY_FILE', keyFile], ['PORTCULLIS_PEP_UPSTREAM_PASSWORD_FILE', passwordFile]] as const) {
    if (file) readableFile(name, file);
  }

  const upstreamHost = read('PORTCULLIS_PEP_UPSTREAM_HOST') ?? '127.0.0.1';

  const config: PepPostgresConfig = {
    listen: {
      host: read('PORTCULLIS_PEP_LISTEN_HOST') ?? '127.0.0.1',
      port: integer(read, 'PORTCULLIS_PEP_LISTEN_PORT', 6543, 0, 65535),
    },
    upstream: {
      host: upstreamHost,
      port: integer(read, 'PORTCULLIS_PEP_UPSTREAM_PORT', 5432, 1, 65535),
      database: read('PORTCULLIS_PEP_UPSTREAM_DATABASE') ?? 'postgres',
      user: required('PORTCULLIS_PEP_UPSTREAM_USER'),
      password: passwordFile ? { file: resolve(passwordFile) } : { env: 'PORTCULLIS_PEP_UPSTREAM_PASSWORD' },
      connectTimeoutMs: integer(read, 'PORTCULLIS_PEP_UPSTREAM_CONNECT_TIMEOUT_SECONDS', 10, 1, 300) * 1000,
      tls: upstreamTlsSettings(read, upstreamHost),
    },
    pdp,
    tls: certFile && keyFile ? { certFile: resolve(certFile), keyFile: resolve(keyFile) } : undefined,
    allowPlaintext: boolean(read, 'PORTCULLIS_PEP_ALLOW_PLAINTEXT', false),
    resource: {
      name: required('PORTCULLIS_PEP_RESOURCE_NAME'),
      environment: read('PORTCULLIS_PEP_RESOURCE_ENVIRONMENT'),
    },
    decisionReuseShapes: integer(read, 'PORTCULLIS_PEP_DECISION_REUSE_SHAPES', 256, 0, 100_000),
    limits: {
      maxMessageBytes: integer(read, 'PORTCULLIS_PEP_MAX_MESSAGE_BYTES', 64 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
      maxStartupBytes: 10 * 1024,
      startupTimeoutMs: integer(read, 'PORTCULLIS_PEP_STARTUP_TIMEOUT_SECONDS', 60, 1, 600) * 1000,
      maxConnections: integer(read, 'PORTCULLIS_PEP_MAX_CONNECTIONS', 200, 1, 100_000),
    },
  };
  return deepFreeze(config);
}

const SSLMODE = 'PORTCULLIS_PEP_UPSTREAM_SSLMODE';
const SSLROOTCERT = 'PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT';
const SSLCERT = 'PORTCULLIS_PEP_UPSTREAM_SSLCERT';
const SSLKEY = 'PORTCULLIS_PEP_UPSTREAM_SSLKEY';

/**
 * TLS to the real server. Unset, the mode is verify-full when a root certificate is given, and
 * disable only for a server on this machine: the PEP holds the database credential, so a link
 * across the network is never left in the clear without someone having chosen it.
 */
function upstreamTlsSettings(read: EnvRead, host: string): UpstreamTlsSettings {
  const rootCert = read(SSLROOTCERT);
  const certFile = read(SSLCERT);
  const keyFile = read(SSLKEY);
  const rawMode = read(SSLMODE);
  if (rawMode === 'prefer' || rawMode === 'allow') {
    configFail(SSLMODE, `"${rawMode}" is not offered: it falls back to plaintext unnoticed; use require, verify-ca or verify-full (or disable)`);
  }
  const mode: UpstreamSslMode = rawMode === undefined ? defaultSslMode(host, rootCert !== undefined) : oneOf(read, SSLMODE, UPSTREAM_SSL_MODES, 'verify-full');

  if (Boolean(certFile) !== Boolean(keyFile)) configFail(certFile ? SSLKEY : SSLCERT, 'is required with the other client certificate file');
  if (mode === 'disable') {
    const unused = rootCert ? SSLROOTCERT : certFile ? SSLCERT : undefined;
    if (unused) configFail(unused, `is set but ${SSLMODE} is disable: the upstream link would not use it`);
    return { mode, rootCert: undefined, clientCert: undefined };
  }
  if (mode === 'require' && rootCert) {
    configFail(SSLROOTCERT, `is not checked with ${SSLMODE}=require (encryption only): set verify-full (or verify-ca) to check the server's certificate`);
  }
  if (mode !== 'require' && !rootCert) {
    configFail(SSLROOTCERT, `is required with ${SSLMODE}=${mode}: a PEM file of the CA certificates to trust, or "system" for the public CAs Node.js ships`);
  }
  if (rootCert === 'system' && mode !== 'verify-full') {
    configFail(SSLROOTCERT, `"system" needs ${SSLMODE}=verify-full: a public CA signs certificates for anyone's names`);
  }
  if (rootCert && rootCert !== 'system') caCertificates(SSLROOTCERT, rootCert);
  if (certFile && keyFile) clientCertificate(certFile, keyFile);
  return {
    mode,
    rootCert: rootCert === undefined ? undefined : rootCert === 'system' ? 'system' : { file: resolve(rootCert) },
    clientCert: certFile && keyFile ? { certFile: resolve(certFile), keyFile: resolve(keyFile) } : undefined,
  };
}

function defaultSslMode(host: string, rootCertSet: boolean): UpstreamSslMode {
  if (rootCertSet) return 'verify-full';
  if (isLoopbackHost(host)) return 'disable';
  return configFail(
    SSLMODE,
    `is required for the non-loopback upstream host ${host}: verify-full with ${SSLROOTCERT} (recommended), require (encrypted, server not authenticated), or disable (plaintext)`,
  );
}

function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  if (name === 'localhost') return true;
  if (isIPv4(name)) return name.startsWith('127.');
  if (isIPv6(name)) return name === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(name) || /^::ffff:127\./.test(name);
  return false;
}

/** At start, so a wrong file fails the start rather than every connection later. */
function caCertificates(name: string, file: string): void {
  let contents: Buffer;
  try {
    contents = readFileSync(resolve(file));
  } catch (error) {
    return configFail(name, `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    new X509Certificate(contents);
  } catch (error) {
    configFail(name, `${file} holds no PEM certificate (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function clientCertificate(certFile: string, keyFile: string): void {
  readableFile(SSLCERT, certFile);
  readableFile(SSLKEY, keyFile);
  try {
    createSecureContext({ cert: readFileSync(resolve(certFile)), key: readFileSync(resolve(keyFile)) });
  } catch (error) {
    // OpenSSL's codes name the problem (no PEM, key does not match) without any key material.
    configFail(SSLCERT, `${certFile} with ${keyFile} is not a usable certificate and key (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
