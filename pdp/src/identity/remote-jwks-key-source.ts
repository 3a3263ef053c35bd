import { createRemoteJWKSet } from 'jose';
import type { CryptoKey, FlattenedJWSInput, JWSHeaderParameters } from 'jose';
import { toKeySourceError, type KeySource } from './key-source.ts';
import { requireSecureUrl } from './secure-url.ts';

export interface RemoteJwksOptions {
  /** Abort one JWKS fetch after this long. Default 5000 ms. */
  timeoutMs?: number;
  /** After a fetch, an unknown `kid` triggers another fetch only once this has passed. Default 30000 ms. */
  cooldownMs?: number;
  /** Refetch the set when it is older than this, so removed keys stop verifying. Default 600000 ms. */
  cacheMaxAgeMs?: number;
  /** Accept a plain-http URL on a non-loopback host. Default false. */
  allowInsecureHttp?: boolean;
}

/**
 * A JWKS served over HTTP(S). jose caches the set, refetches it when a token names a `kid` it
 * does not hold (key rotation) at most once per cooldown, and refetches once the cache is stale.
 * When the set cannot be fetched, verification fails closed (`KeysUnavailableError`).
 */
export class RemoteJwksKeySource implements KeySource {
  readonly description: string;
  readonly #resolve: ReturnType<typeof createRemoteJWKSet>;

  constructor(url: URL | string, options: RemoteJwksOptions = {}) {
    const parsed = requireSecureUrl(url, 'JWKS URL', options.allowInsecureHttp);
    this.description = parsed.href;
    this.#resolve = createRemoteJWKSet(parsed, {
      timeoutDuration: options.timeoutMs ?? 5_000,
      cooldownDuration: options.cooldownMs ?? 30_000,
      cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    });
  }

  async resolveKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    try {
      return await this.#resolve(header, token);
    } catch (error) {
      throw toKeySourceError(error, this.description);
    }
  }
}
