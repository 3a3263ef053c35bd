import { errors } from 'jose';
import type { CryptoKey, FlattenedJWSInput, JWSHeaderParameters } from 'jose';

/**
 * Where the public keys that verify one issuer's tokens come from.
 *
 * `resolveKey` either returns the one key that matches the token's header, or throws:
 * - jose's `JWKSNoMatchingKey` / `JWKSMultipleMatchingKeys` when the set has no single key for it;
 * - `KeysUnavailableError` when the set itself could not be obtained (network, file, bad JSON).
 * The verifier turns the first into `token-unknown-key` and the second into `token-keys-unavailable`.
 */
export interface KeySource {
  /** Human-readable origin for messages and logs (a URL or a path; never key material). */
  readonly description: string;
  resolveKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey>;
}

/** The key set could not be loaded; verification must fail closed. */
export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Lets "this set has no such key" through unchanged and turns every other failure of a key
 * source into `KeysUnavailableError`, so a broken source can never be mistaken for a bad token.
 */
export function toKeySourceError(error: unknown, description: string): Error {
  if (
    error instanceof KeysUnavailableError ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported
  ) {
    return error;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new KeysUnavailableError(`signing keys from ${description} are unavailable: ${reason}`, { cause: error });
}
