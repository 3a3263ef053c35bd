import type { CryptoKey, FlattenedJWSInput, JWSHeaderParameters } from 'jose';
import { KeysUnavailableError, type KeySource } from './key-source.ts';
import { RemoteJwksKeySource, type RemoteJwksOptions } from './remote-jwks-key-source.ts';
import { requireSecureUrl } from './secure-url.ts';

export interface OidcDiscoveryOptions extends RemoteJwksOptions {
  /** After a failed discovery, wait this long before trying again. Default 30000 ms. */
  retryAfterMs?: number;
}

/**
 * Finds an issuer's JWKS through OpenID Connect discovery: fetches
 * `<issuer>/.well-known/openid-configuration` once, then behaves as a `RemoteJwksKeySource` on its
 * `jwks_uri`. Until discovery succeeds every verification fails closed.
 */
export class OidcDiscoveryKeySource implements KeySource {
  readonly description: string;
  readonly #issuer: string;
  readonly #discoveryUrl: URL;
  readonly #options: OidcDiscoveryOptions;
  #keys: RemoteJwksKeySource | undefined;
  #pending: Promise<RemoteJwksKeySource> | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;
  #lastFailure: KeysUnavailableError | undefined;

  constructor(issuer: string, options: OidcDiscoveryOptions = {}) {
    const issuerUrl = requireSecureUrl(issuer, 'OIDC issuer URL', options.allowInsecureHttp);
    this.#issuer = issuer;
    this.#options = options;
    // OIDC Discovery 1.0 §4: drop a trailing slash from the issuer, then append the well-known path.
    this.#discoveryUrl = new URL(`${issuerUrl.href.replace(/\/+$/, '')}/.well-known/openid-configuration`);
    this.description = this.#discoveryUrl.href;
  }

  async resolveKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    const keys = this.#keys ?? (await this.#discover());
    return keys.resolveKey(header, token);
  }

  #discover(): Promise<RemoteJwksKeySource> {
    const retryAfterMs = this.#options.retryAfterMs ?? 30_000;
    // A down IdP must not turn every request into a discovery fetch.
    if (this.#lastFailure && Date.now() - this.#failedAt < retryAfterMs) {
      return Promise.reject(this.#lastFailure);
    }
    this.#pending ??= this.#fetchConfiguration()
      .then((keys) => {
        this.#keys = keys;
        this.#lastFailure = undefined;
        return keys;
      })
      .catch((error: unknown) => {
        this.#failedAt = Date.now();
        this.#lastFailure =
          error instanceof KeysUnavailableError
            ? error
            : new KeysUnavailableError(`OIDC discovery at ${this.description} failed: ${describe(error)}`, { cause: error });
        throw this.#lastFailure;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  async #fetchConfiguration(): Promise<RemoteJwksKeySource> {
    const response = await fetch(this.#discoveryUrl, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5_000),
    });
    if (response.status !== 200) {
      throw new KeysUnavailableError(`OIDC discovery at ${this.description} answered HTTP ${response.status}`);
    }
    const document: unknown = await response.json();
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new KeysUnavailableError(`OIDC discovery at ${this.description} did not return a JSON object`);
    }
    const { issuer, jwks_uri: jwksUri } = document as Record<string, unknown>;
    // §4.3: the document must name exactly the issuer we asked about, or it speaks for someone else.
    if (issuer !== this.#issuer) {
      throw new KeysUnavailableError(`OIDC discovery at ${this.description} names a different issuer`);
    }
    if (typeof jwksUri !== 'string') {
      throw new KeysUnavailableError(`OIDC discovery at ${this.description} has no jwks_uri`);
    }
    return new RemoteJwksKeySource(jwksUri, this.#options);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
