import { hash } from 'node:crypto';
import type { TokenVerifier, VerifyResult } from './token-verifier.ts';

export interface CachingTokenVerifierOptions {
  /** A verified token is trusted again without a signature check for at most this long. */
  readonly maxAgeMs: number;
  readonly maxEntries: number;
}

/**
 * Remembers successful verifications so a PEP's long-lived credential and an agent's token
 * are not re-verified on every command. Entries never outlive the token's own `exp`; failures
 * are never cached, so a fixed key set or clock is picked up at once. A key removed from the
 * issuer's set stops vouching for cached tokens within `maxAgeMs`. The cache is keyed by a
 * digest, so it never holds raw tokens, and hands out frozen results shared by every caller.
 */
export class CachingTokenVerifier implements TokenVerifier {
  private readonly entries = new Map<string, { result: VerifyResult; until: number }>();

  constructor(private readonly inner: TokenVerifier, private readonly options: CachingTokenVerifierOptions) {}

  async verify(token: string | undefined): Promise<VerifyResult> {
    if (token === undefined || token === '') return this.inner.verify(token);
    const now = Date.now();
    const key = hash('sha256', token, 'base64url');
    const cached = this.entries.get(key);
    if (cached && cached.until > now) return cached.result;
    if (cached) this.entries.delete(key);
    const result = freeze(await this.inner.verify(token));
    if (result.ok) {
      const expiresAt = result.principal.exp === undefined ? Infinity : result.principal.exp * 1000;
      const until = Math.min(now + this.options.maxAgeMs, expiresAt);
      if (until > now) {
        if (this.entries.size >= this.options.maxEntries) {
          // Map keeps insertion order: drop the oldest entry.
          const oldest = this.entries.keys().next().value;
          if (oldest !== undefined) this.entries.delete(oldest);
        }
        this.entries.set(key, { result, until });
      }
    }
    return result;
  }
}

function freeze(result: VerifyResult): VerifyResult {
  if (result.ok) {
    Object.freeze(result.principal.roles);
    Object.freeze(result.principal.aud);
    Object.freeze(result.principal.claims);
    Object.freeze(result.principal);
  }
  return Object.freeze(result);
}
