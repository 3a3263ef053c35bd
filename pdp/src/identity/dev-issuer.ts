import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { CryptoKey, FlattenedJWSInput, JSONWebKeySet, JWSHeaderParameters } from 'jose';
import { loadOrCreateSigningKey, SIGNING_KEY_ALGORITHM, type SigningKey } from '../keys/signing-key-store.ts';
import { InMemoryJwksKeySource } from './in-memory-jwks-key-source.ts';
import { KeysUnavailableError, type KeySource } from './key-source.ts';
import type { TrustedIssuer } from './token-verifier.ts';
import { PEP_RESOURCES_CLAIM, resourcePatternProblem } from './resource-binding.ts';
import { MAX_TTL_SECONDS } from './ttl.ts';

export const DEV_ISSUER_ID = 'portcullis-dev';
/** Agent (subject) and PEP tokens. */
export const DEV_AUDIENCE = 'portcullis';
/** Console sessions (votes, the approvals socket, the console's APIs): never accepted as agent or PEP tokens. */
export const DEV_CONSOLE_AUDIENCE = 'portcullis-console';

/** Where the dev issuer keeps its keys inside a Portcullis state folder; the CLI and the PDP must agree. */
export function devIssuerDirectory(stateDir: string): string {
  return join(stateDir, 'dev-issuer');
}

export interface DevIssuerOptions {
  /** Folder for the key files, e.g. `devIssuerDirectory(stateDir)`. Created 0700 if missing. */
  directory: string;
  issuer?: string;
  audience?: string;
  /** What `issue({ console: true })` mints for. */
  consoleAudience?: string;
}

export interface DevTokenRequest {
  sub: string;
  roles?: readonly string[];
  kind?: 'agent' | 'human';
  ttlSeconds: number;
  audience?: string | readonly string[];
  /** A console session (the issuer's console audience) instead of an agent or PEP token; not with `audience`. */
  console?: boolean;
  /** A PEP token's binding: the resource names or globs it fronts (claim `portcullis_resources`). */
  resources?: readonly string[];
  extraClaims?: Readonly<Record<string, unknown>>;
}

/** Claims the issuer sets itself; letting extraClaims override them would forge identity or lifetime. */
const RESERVED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'roles', 'kind', PEP_RESOURCES_CLAIM]);

/**
 * A local token issuer for development and single-machine use. Its ES256 key pair is created on
 * first use and kept in `directory` (`private-key.jwk`, mode 0600; `jwks.json`, the public set),
 * so tokens minted by the CLI verify in the PDP and survive restarts.
 */
export class DevIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly consoleAudience: string;
  readonly directory: string;
  #key: Promise<SigningKey> | undefined;

  constructor(options: DevIssuerOptions) {
    this.directory = options.directory;
    this.issuer = options.issuer ?? DEV_ISSUER_ID;
    this.audience = options.audience ?? DEV_AUDIENCE;
    this.consoleAudience = options.consoleAudience ?? DEV_CONSOLE_AUDIENCE;
    if (!this.issuer) throw new TypeError('dev issuer: issuer must be a non-empty string');
    if (!this.audience) throw new TypeError('dev issuer: audience must be a non-empty string');
  }

  /** Mints a signed JWT. Throws a TypeError/RangeError on a bad request. */
  async issue(request: DevTokenRequest): Promise<string> {
    const { sub, roles = [], kind = 'agent', ttlSeconds, resources, extraClaims = {} } = request;
    if (request.console && request.audience !== undefined) throw new TypeError('dev issuer: give console or audience, not both');
    const audience = request.audience ?? (request.console ? this.consoleAudience : this.audience);
    if (typeof sub !== 'string' || sub.trim() === '') throw new TypeError('dev issuer: sub must be a non-empty string');
    for (const role of roles) {
      if (typeof role !== 'string' || !/^\S+$/.test(role)) throw new TypeError(`dev issuer: invalid role ${JSON.stringify(role)}`);
    }
    if (kind !== 'agent' && kind !== 'human') throw new TypeError('dev issuer: kind must be "agent" or "human"');
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TTL_SECONDS) {
      throw new RangeError(`dev issuer: ttlSeconds must be an integer between 1 and ${MAX_TTL_SECONDS}`);
    }
    const audiences = typeof audience === 'string' ? [audience] : [...audience];
    if (audiences.length === 0 || audiences.some((aud) => typeof aud !== 'string' || aud === '')) {
      throw new TypeError('dev issuer: audience must be one or more non-empty strings');
    }
    if (resources !== undefined) {
      if (resources.length === 0) throw new TypeError('dev issuer: resources must name at least one resource');
      const problem = resources.map(resourcePatternProblem).find((found) => found !== undefined);
      if (problem !== undefined) throw new TypeError(`dev issuer: resources: ${problem}`);
    }
    const reserved = Object.keys(extraClaims).filter((name) => RESERVED_CLAIMS.has(name));
    if (reserved.length > 0) throw new TypeError(`dev issuer: extraClaims may not set ${reserved.join(', ')}`);

    const { kid, privateKey } = await this.#signingKey();
    const now = Math.floor(Date.now() / 1000);
    const binding = resources === undefined ? {} : { [PEP_RESOURCES_CLAIM]: [...new Set(resources)] };
    return new SignJWT({ ...extraClaims, ...binding, roles: [...new Set(roles)], kind })
      .setProtectedHeader({ alg: SIGNING_KEY_ALGORITHM, kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(sub)
      .setAudience(audiences.length === 1 ? (audiences[0] as string) : audiences)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttlSeconds)
      .setJti(randomUUID())
      .sign(privateKey);
  }

  /** The public half, as published in `jwks.json`. */
  async publicJwks(): Promise<JSONWebKeySet> {
    return structuredClone((await this.#signingKey()).jwks);
  }

  /** Verifies with this issuer's public keys; if they cannot be loaded, verification fails closed. */
  keySource(): KeySource {
    let keys: Promise<InMemoryJwksKeySource> | undefined;
    const description = `dev issuer ${this.directory}`;
    return {
      description,
      resolveKey: async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
        keys ??= this.#signingKey().then(({ jwks }) => new InMemoryJwksKeySource(jwks, description));
        let source: InMemoryJwksKeySource;
        try {
          source = await keys;
        } catch (error) {
          keys = undefined;
          throw new KeysUnavailableError(`${description} has no usable keys`, { cause: error });
        }
        return source.resolveKey(header, token);
      },
    };
  }

  /** This issuer as a `JoseTokenVerifier` trust entry. */
  trustedIssuer(): TrustedIssuer {
    return { issuer: this.issuer, keys: this.keySource() };
  }

  #signingKey(): Promise<SigningKey> {
    // Retry on the next call after a failure (e.g. a permissions fix) instead of caching the error.
    this.#key ??= loadOrCreateSigningKey(this.directory, 'dev issuer key').catch((error: unknown) => {
      this.#key = undefined;
      throw error;
    });
    return this.#key;
  }
}
