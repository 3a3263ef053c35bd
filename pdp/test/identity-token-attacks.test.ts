import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CompactEncrypt, exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { DevIssuer } from '../src/identity/dev-issuer.ts';
import { InMemoryJwksKeySource } from '../src/identity/in-memory-jwks-key-source.ts';
import { KeysUnavailableError, type KeySource } from '../src/identity/key-source.ts';
import { LocalJwksFileKeySource } from '../src/identity/local-jwks-file-key-source.ts';
import { JoseTokenVerifier, type TokenFailureCode, type TokenVerifier } from '../src/identity/token-verifier.ts';

/** What one verifier set-up gives the shared attack suite. */
interface Setup {
  verifier: TokenVerifier;
  issuer: string;
  audience: string;
  alg: string;
  kid: string;
  signingKey: CryptoKey;
  publicPem: string;
  publicJwk: JWK;
  cleanup(): Promise<void>;
}

type Claims = Record<string, unknown>;

const now = (): number => Math.floor(Date.now() / 1000);
const b64 = (value: string | Uint8Array): string => Buffer.from(value).toString('base64url');

function validClaims(setup: Setup, overrides: Claims = {}): Claims {
  const t = now();
  const claims: Claims = { iss: setup.issuer, sub: 'agent-7', aud: setup.audience, iat: t, nbf: t, exp: t + 300, roles: ['reader'], kind: 'agent', ...overrides };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return claims;
}

async function sign(setup: Setup, claims: Claims, header: { alg?: string; kid?: string } = {}, key: CryptoKey | Uint8Array = setup.signingKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: header.alg ?? setup.alg, kid: header.kid ?? setup.kid, typ: 'JWT' }).sign(key);
}

async function expectRejected(verifier: TokenVerifier, token: string | undefined, code: TokenFailureCode): Promise<void> {
  const result = await verifier.verify(token);
  assert.equal(result.ok, false, 'token was accepted');
  if (result.ok) return;
  assert.equal(result.code, code, `expected ${code}, got ${result.code}: ${result.message}`);
  assert.ok(result.message.length > 0);
  if (token && token.length >= 8) {
    // Neither the token nor any of its parts may leak into a message that ends up in logs.
    assert.ok(!result.message.includes(token), 'message contains the raw token');
    for (const part of token.split('.')) {
      if (part.length >= 16) assert.ok(!result.message.includes(part), 'message contains a token segment');
    }
  }
}

async function devIssuerSetup(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-identity-'));
  const issuer = new DevIssuer({ directory: join(dir, 'dev-issuer') });
  const jwks = await issuer.publicJwks();
  const publicJwk = jwks.keys[0];
  assert.ok(publicJwk?.kid);
  const privateJwk = JSON.parse(await readFile(join(dir, 'dev-issuer', 'private-key.jwk'), 'utf8')) as JWK;
  const signingKey = (await importJWK(privateJwk, 'ES256')) as CryptoKey;
  const publicKey = (await importJWK(publicJwk, 'ES256', { extractable: true })) as CryptoKey;
  return {
    verifier: new JoseTokenVerifier({ issuers: [issuer.trustedIssuer()], audience: issuer.audience }),
    issuer: issuer.issuer,
    audience: issuer.audience,
    alg: 'ES256',
    kid: publicJwk.kid,
    signingKey,
    publicPem: await exportSPKI(publicKey),
    publicJwk,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

async function localJwksFileSetup(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-identity-'));
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: 'rsa-2025', alg: 'RS256', use: 'sig' };
  const file = join(dir, 'jwks.json');
  await writeFile(file, JSON.stringify({ keys: [publicJwk] }));
  const issuer = 'https://idp.example.test/realms/agents';
  return {
    verifier: new JoseTokenVerifier({ issuers: [{ issuer, keys: new LocalJwksFileKeySource(file) }], audience: 'portcullis' }),
    issuer,
    audience: 'portcullis',
    alg: 'RS256',
    kid: 'rsa-2025',
    signingKey: privateKey,
    publicPem: await exportSPKI(publicKey),
    publicJwk,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

for (const [name, create] of [
  ['dev issuer (ES256)', devIssuerSetup],
  ['local JWKS file (RS256)', localJwksFileSetup],
] as const) {
  describe(`token verifier attacks: ${name}`, () => {
    let s: Setup;
    before(async () => {
      s = await create();
    });
    after(async () => {
      await s.cleanup();
    });

    test('accepts a valid token and maps sub, iss, roles, kind, aud, exp', async () => {
      const claims = validClaims(s, { roles: ['reader', 'writer', 'reader'], kind: 'human' });
      const result = await s.verifier.verify(await sign(s, claims));
      assert.ok(result.ok, result.ok ? '' : result.message);
      assert.deepEqual(
        { sub: result.principal.sub, iss: result.principal.iss, kind: result.principal.kind, roles: result.principal.roles, aud: result.principal.aud, exp: result.principal.exp },
        { sub: 'agent-7', iss: s.issuer, kind: 'human', roles: ['reader', 'writer'], aud: [s.audience], exp: claims.exp },
      );
      assert.equal(result.principal.claims.sub, 'agent-7');
    });

    test('rejects alg none in every spelling', async () => {
      const payload = b64(JSON.stringify(validClaims(s)));
      for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
        const header = b64(JSON.stringify({ alg, typ: 'JWT' }));
        await expectRejected(s.verifier, `${header}.${payload}.`, 'token-algorithm-not-allowed');
        await expectRejected(s.verifier, `${header}.${payload}.${b64('x'.repeat(32))}`, 'token-algorithm-not-allowed');
      }
    });

    test('rejects a missing or non-string alg', async () => {
      const payload = b64(JSON.stringify(validClaims(s)));
      const signature = b64('x'.repeat(64));
      await expectRejected(s.verifier, `${b64(JSON.stringify({ typ: 'JWT' }))}.${payload}.${signature}`, 'token-algorithm-not-allowed');
      await expectRejected(s.verifier, `${b64(JSON.stringify({ alg: ['RS256'] }))}.${payload}.${signature}`, 'token-algorithm-not-allowed');
    });

    test('rejects HS256 signed with the public key PEM or JWK as the HMAC secret', async () => {
      const claims = validClaims(s);
      const secrets = [
        new TextEncoder().encode(s.publicPem),
        new TextEncoder().encode(s.publicPem.trim()),
        new TextEncoder().encode(JSON.stringify(s.publicJwk)),
      ];
      for (const secret of secrets) {
        for (const alg of ['HS256', 'HS384', 'HS512']) {
          await expectRejected(s.verifier, await sign(s, claims, { alg }, secret), 'token-algorithm-not-allowed');
        }
      }
    });

    test('rejects an expired token', async () => {
      const t = now();
      await expectRejected(s.verifier, await sign(s, validClaims(s, { iat: t - 7200, nbf: t - 7200, exp: t - 3600 })), 'token-expired');
    });

    test('accepts a token expired by less than the clock skew', async () => {
      const t = now();
      const result = await s.verifier.verify(await sign(s, validClaims(s, { iat: t - 600, nbf: t - 600, exp: t - 10 })));
      assert.ok(result.ok);
    });

    test('rejects a token whose nbf is far in the future', async () => {
      const t = now();
      await expectRejected(s.verifier, await sign(s, validClaims(s, { nbf: t + 3600, exp: t + 7200 })), 'token-not-yet-valid');
    });

    test('rejects a token whose iat is far in the future', async () => {
      const t = now();
      await expectRejected(s.verifier, await sign(s, validClaims(s, { iat: t + 3600, nbf: undefined, exp: t + 7200 })), 'token-not-yet-valid');
    });

    test('rejects a wrong or missing audience', async () => {
      await expectRejected(s.verifier, await sign(s, validClaims(s, { aud: 'some-other-api' })), 'token-wrong-audience');
      await expectRejected(s.verifier, await sign(s, validClaims(s, { aud: ['a', 'b'] })), 'token-wrong-audience');
      await expectRejected(s.verifier, await sign(s, validClaims(s, { aud: undefined })), 'token-wrong-audience');
    });

    test('accepts an audience list that contains ours', async () => {
      const result = await s.verifier.verify(await sign(s, validClaims(s, { aud: ['other', s.audience] })));
      assert.ok(result.ok);
      assert.deepEqual(result.principal.aud, ['other', s.audience]);
    });

    test('rejects a wrong or missing issuer', async () => {
      await expectRejected(s.verifier, await sign(s, validClaims(s, { iss: 'https://evil.example' })), 'token-wrong-issuer');
      await expectRejected(s.verifier, await sign(s, validClaims(s, { iss: `${s.issuer}/` })), 'token-wrong-issuer');
      await expectRejected(s.verifier, await sign(s, validClaims(s, { iss: undefined })), 'token-wrong-issuer');
    });

    test('rejects an unknown kid', async () => {
      await expectRejected(s.verifier, await sign(s, validClaims(s), { kid: 'no-such-key' }), 'token-unknown-key');
    });

    test('rejects a tampered payload', async () => {
      const [header, , signature] = (await sign(s, validClaims(s))).split('.');
      const forged = b64(JSON.stringify(validClaims(s, { roles: ['admin'], sub: 'root' })));
      await expectRejected(s.verifier, `${header}.${forged}.${signature}`, 'token-bad-signature');
    });

    test('rejects a tampered signature', async () => {
      const [header, payload, signature] = (await sign(s, validClaims(s))).split('.');
      assert.ok(header && payload && signature);
      const bytes = Buffer.from(signature, 'base64url');
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      await expectRejected(s.verifier, `${header}.${payload}.${bytes.toString('base64url')}`, 'token-bad-signature');
      const truncated = Buffer.from(signature, 'base64url').subarray(0, 10).toString('base64url');
      await expectRejected(s.verifier, `${header}.${payload}.${truncated}`, 'token-bad-signature');
    });

    test('rejects a token signed by a different key that claims the same kid', async () => {
      const { privateKey } = await generateKeyPair(s.alg);
      await expectRejected(s.verifier, await sign(s, validClaims(s), {}, privateKey), 'token-bad-signature');
    });

    test('ignores keys the token brings itself (embedded jwk, jku, x5u)', async () => {
      const { privateKey, publicKey } = await generateKeyPair(s.alg, { extractable: true });
      const attackerJwk = await exportJWK(publicKey);
      for (const kid of ['attacker-key', s.kid]) {
        const token = await new SignJWT(validClaims(s))
          .setProtectedHeader({ alg: s.alg, kid, jwk: attackerJwk, jku: 'https://evil.example/jwks', x5u: 'https://evil.example/cert' })
          .sign(privateKey);
        await expectRejected(s.verifier, token, kid === s.kid ? 'token-bad-signature' : 'token-unknown-key');
      }
    });

    test('rejects a missing, empty or non-string sub', async () => {
      await expectRejected(s.verifier, await sign(s, validClaims(s, { sub: undefined })), 'token-invalid');
      await expectRejected(s.verifier, await sign(s, validClaims(s, { sub: '' })), 'token-invalid');
      await expectRejected(s.verifier, await sign(s, validClaims(s, { sub: 42 })), 'token-invalid');
    });

    test('rejects a token without exp', async () => {
      await expectRejected(s.verifier, await sign(s, validClaims(s, { exp: undefined })), 'token-invalid');
    });

    test('rejects a roles claim of the wrong shape instead of guessing', async () => {
      await expectRejected(s.verifier, await sign(s, validClaims(s, { roles: 7 })), 'token-invalid');
      await expectRejected(s.verifier, await sign(s, validClaims(s, { roles: ['reader', { admin: true }] })), 'token-invalid');
    });

    test('rejects garbage strings', async () => {
      for (const garbage of [
        'garbage',
        'a.b',
        'a.b.c',
        'a.b.c.d',
        '....',
        '..',
        '!!!.@@@.###',
        'Bearer eyJhbGciOiJFUzI1NiJ9.e30.AAAA',
        ' ',
        '\u0000\u0001',
        'eyJ',
        'ëyJ.ëyJ.ëyJ',
        `${b64('{"alg":"ES256"}')}.${b64('not json')}.AAAA`,
        `${b64('{"alg":"ES256"}')}.${b64('[1,2]')}.AAAA`,
        `${b64('{"alg":"ES256"}')}..AAAA`,
      ]) {
        await expectRejected(s.verifier, garbage, 'token-malformed');
      }
    });

    test('rejects an empty string and an absent token as missing', async () => {
      await expectRejected(s.verifier, '', 'token-missing');
      await expectRejected(s.verifier, undefined, 'token-missing');
    });

    test('never throws, even on input of the wrong type', async () => {
      const verify = s.verifier.verify.bind(s.verifier) as (token: unknown) => ReturnType<TokenVerifier['verify']>;
      for (const value of [null, 42, {}, ['a.b.c'], Symbol('x')]) {
        const result = await verify(value);
        assert.equal(result.ok, false);
      }
    });

    test('rejects a 100 KB token before parsing it', async () => {
      const signedButHuge = await sign(s, validClaims(s, { padding: 'x'.repeat(100 * 1024) }));
      await expectRejected(s.verifier, signedButHuge, 'token-malformed');
      await expectRejected(s.verifier, 'a'.repeat(100 * 1024), 'token-malformed');
    });

    test('rejects a JWE (five-part) token', async () => {
      const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(validClaims(s))))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: s.kid })
        .encrypt(new Uint8Array(32).fill(7));
      assert.equal(jwe.split('.').length, 5);
      await expectRejected(s.verifier, jwe, 'token-malformed');
    });

    test('rejects a token whose header is not JSON', async () => {
      const [, payload, signature] = (await sign(s, validClaims(s))).split('.');
      await expectRejected(s.verifier, `${b64('not-json')}.${payload}.${signature}`, 'token-malformed');
      await expectRejected(s.verifier, `${b64('["ES256"]')}.${payload}.${signature}`, 'token-malformed');
      await expectRejected(s.verifier, `${b64(new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]))}.${payload}.${signature}`, 'token-malformed');
    });

    test('rejects a token with an unsupported critical header', async () => {
      const token = await new SignJWT(validClaims(s))
        .setProtectedHeader({ alg: s.alg, kid: s.kid, crit: ['x-portcullis'], 'x-portcullis': 1 })
        .sign(s.signingKey, { crit: { 'x-portcullis': true } });
      await expectRejected(s.verifier, token, 'token-invalid');
    });
  });
}

describe('token verifier claim mapping and configuration', () => {
  let s: Setup;
  before(async () => {
    s = await devIssuerSetup();
  });
  after(async () => {
    await s.cleanup();
  });

  const verifierWith = (options: Partial<ConstructorParameters<typeof JoseTokenVerifier>[0]>): JoseTokenVerifier =>
    new JoseTokenVerifier({ issuers: [{ issuer: s.issuer, keys: keysOf(s) }], audience: s.audience, ...options });

  test('a space-separated roles string becomes a list', async () => {
    const result = await s.verifier.verify(await sign(s, validClaims(s, { roles: ' reader  writer ' })));
    assert.ok(result.ok);
    assert.deepEqual(result.principal.roles, ['reader', 'writer']);
  });

  test('a missing roles claim means no roles', async () => {
    const result = await s.verifier.verify(await sign(s, validClaims(s, { roles: undefined })));
    assert.ok(result.ok);
    assert.deepEqual(result.principal.roles, []);
  });

  test('a missing or unknown kind is treated as agent', async () => {
    for (const kind of [undefined, 'Human', 'admin', true, ['human']]) {
      const result = await s.verifier.verify(await sign(s, validClaims(s, { kind })));
      assert.ok(result.ok);
      assert.equal(result.principal.kind, 'agent', `kind ${JSON.stringify(kind)}`);
    }
  });

  test('roles and kind can be read from configured and nested claims', async () => {
    const verifier = verifierWith({ rolesClaim: ['realm_access', 'roles'], kindClaim: 'https://portcullis.dev/kind' });
    const token = await sign(s, validClaims(s, { roles: undefined, kind: undefined, realm_access: { roles: ['db-admin'] }, 'https://portcullis.dev/kind': 'human' }));
    const result = await verifier.verify(token);
    assert.ok(result.ok);
    assert.deepEqual(result.principal.roles, ['db-admin']);
    assert.equal(result.principal.kind, 'human');
  });

  test('an algorithm outside the configured allow-list is rejected', async () => {
    const verifier = verifierWith({ algorithms: ['RS256'] });
    await expectRejected(verifier, await sign(s, validClaims(s)), 'token-algorithm-not-allowed');
  });

  test('refuses to be configured with none, HMAC or an empty allow-list', () => {
    for (const algorithms of [['none'], ['HS256'], ['ES256', 'HS512'], []]) {
      assert.throws(() => verifierWith({ algorithms }), TypeError);
    }
  });

  test('refuses to be configured without issuers or audience', () => {
    assert.throws(() => verifierWith({ issuers: [] }), TypeError);
    assert.throws(() => verifierWith({ audience: [] }), TypeError);
    assert.throws(() => verifierWith({ audience: '' }), TypeError);
  });

  test('a token without exp is accepted only when expiry is not required', async () => {
    const token = await sign(s, validClaims(s, { exp: undefined }));
    const result = await verifierWith({ requireExpiry: false }).verify(token);
    assert.ok(result.ok);
    assert.equal(result.principal.exp, undefined);
  });

  test('one issuer’s keys cannot vouch for another issuer’s tokens', async () => {
    const other = await localJwksFileSetup();
    try {
      const verifier = new JoseTokenVerifier({
        issuers: [
          { issuer: s.issuer, keys: keysOf(s) },
          { issuer: other.issuer, keys: keysOf(other) },
        ],
        audience: 'portcullis',
      });
      // Signed with the dev key and naming the dev kid, but claiming the other issuer.
      await expectRejected(verifier, await sign(s, validClaims(s, { iss: other.issuer })), 'token-unknown-key');
      assert.ok((await verifier.verify(await sign(s, validClaims(s)))).ok);
      assert.ok((await verifier.verify(await sign(other, validClaims(other)))).ok);
    } finally {
      await other.cleanup();
    }
  });

  test('a key source that cannot load keys fails closed as token-keys-unavailable', async () => {
    const broken: KeySource = {
      description: 'broken',
      resolveKey: () => Promise.reject(new KeysUnavailableError('the IdP is down')),
    };
    await expectRejected(verifierWith({ issuers: [{ issuer: s.issuer, keys: broken }] }), await sign(s, validClaims(s)), 'token-keys-unavailable');
  });

  test('a key source that throws something unexpected still yields a failure, not an exception', async () => {
    const broken: KeySource = {
      description: 'broken',
      resolveKey: () => {
        throw new RangeError('surprise');
      },
    };
    const result = await verifierWith({ issuers: [{ issuer: s.issuer, keys: broken }] }).verify(await sign(s, validClaims(s)));
    assert.equal(result.ok, false);
  });
});

/** The set-up's public key alone, for verifiers built inside a test. */
function keysOf(setup: Setup): KeySource {
  return new InMemoryJwksKeySource({ keys: [{ ...setup.publicJwk, kid: setup.kid, alg: setup.alg }] });
}
