import { createLocalJWKSet } from 'jose';
import type { CryptoKey, FlattenedJWSInput, JSONWebKeySet, JWSHeaderParameters } from 'jose';
import { toKeySourceError, type KeySource } from './key-source.ts';

/** A fixed key set held in memory, e.g. the dev issuer's public keys. */
export class InMemoryJwksKeySource implements KeySource {
  readonly description: string;
  readonly #resolve: ReturnType<typeof createLocalJWKSet>;

  /** Throws at construction when `jwks` is not a JSON Web Key Set: a config error, not a token error. */
  constructor(jwks: JSONWebKeySet, description = 'in-memory key set') {
    this.description = description;
    this.#resolve = createLocalJWKSet(jwks);
  }

  async resolveKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    try {
      return await this.#resolve(header, token);
    } catch (error) {
      throw toKeySourceError(error, this.description);
    }
  }
}
