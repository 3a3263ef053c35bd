import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CachingTokenVerifier } from '../src/identity/caching-token-verifier.ts';
import type { TokenVerifier, VerifyResult } from '../src/identity/token-verifier.ts';

/** A verifier that counts calls and answers from a table: the cache's behaviour is what is tested. */
function countingVerifier(answers: Record<string, VerifyResult>): TokenVerifier & { calls: number } {
  return {
    calls: 0,
    async verify(token) {
      this.calls += 1;
      return answers[token ?? ''] ?? { ok: false, code: 'token-invalid', message: 'no' };
    },
  };
}

const principal = (exp: number) => ({ sub: 'a', iss: 'i', kind: 'agent' as const, roles: ['reader'], aud: ['portcullis'], exp, claims: {} });

describe('CachingTokenVerifier', () => {
  it('verifies a good token once and answers repeats from the cache', async () => {
    const inner = countingVerifier({ good: { ok: true, principal: principal(Math.floor(Date.now() / 1000) + 600) } });
    const cache = new CachingTokenVerifier(inner, { maxAgeMs: 60_000, maxEntries: 10 });
    const first = await cache.verify('good');
    const second = await cache.verify('good');
    assert.equal(inner.calls, 1);
    assert.equal(first.ok && second.ok, true);
    assert.throws(() => { (second as { principal: { roles: string[] } }).principal.roles.push('dba'); }, TypeError, 'results are frozen');
  });

  it('never caches failures, and never past the token expiry', async () => {
    const inner = countingVerifier({ soon: { ok: true, principal: principal(Math.floor(Date.now() / 1000) - 1) } });
    const cache = new CachingTokenVerifier(inner, { maxAgeMs: 60_000, maxEntries: 10 });
    await cache.verify('bad');
    await cache.verify('bad');
    await cache.verify('soon');
    await cache.verify('soon');
    assert.equal(inner.calls, 4);
  });

  it('re-verifies after maxAge and evicts the oldest entry when full', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const inner = countingVerifier({ a: { ok: true, principal: principal(exp) }, b: { ok: true, principal: principal(exp) } });
    const short = new CachingTokenVerifier(inner, { maxAgeMs: 1, maxEntries: 10 });
    await short.verify('a');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await short.verify('a');
    assert.equal(inner.calls, 2);
    const tiny = new CachingTokenVerifier(inner, { maxAgeMs: 60_000, maxEntries: 1 });
    await tiny.verify('a');
    await tiny.verify('b');
    await tiny.verify('a');
    assert.equal(inner.calls, 5);
  });
});
