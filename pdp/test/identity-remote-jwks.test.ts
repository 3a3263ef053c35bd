import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { keySourceForIssuer } from '../src/identity/issuer-key-source.ts';
import type { KeySource } from '../src/identity/key-source.ts';
import { OidcDiscoveryKeySource } from '../src/identity/oidc-discovery-key-source.ts';
import { RemoteJwksKeySource } from '../src/identity/remote-jwks-key-source.ts';
import { JoseTokenVerifier, type VerifyResult } from '../src/identity/token-verifier.ts';
import { eventually } from '../../test/support/eventually.ts';

interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function testKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** A tiny IdP on 127.0.0.1: its JWKS and discovery document can be changed mid-test. */
class FakeIdp {
  readonly server: Server;
  keys: JWK[] = [];
  discovery: Record<string, unknown> | undefined;
  jwksStatus = 200;
  hits = new Map<string, number>();

  constructor() {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      if (path === '/jwks') {
        res.writeHead(this.jwksStatus, { 'content-type': 'application/json' });
        res.end(this.jwksStatus === 200 ? JSON.stringify({ keys: this.keys }) : '{"error":"boom"}');
      } else if (path === '/.well-known/openid-configuration' && this.discovery) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.discovery));
      } else {
        res.writeHead(404).end();
      }
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function tokenFor(key: TestKey, issuer: string): Promise<string> {
  return new SignJWT({ roles: ['reader'] })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(issuer)
    .setSubject('agent-7')
    .setAudience('portcullis')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key.privateKey);
}

function verifierFor(issuer: string, keys: KeySource): JoseTokenVerifier {
  return new JoseTokenVerifier({ issuers: [{ issuer, keys }], audience: 'portcullis' });
}

const refusedWith = (result: VerifyResult, code: string): boolean => !result.ok && result.code === code;

function assertCode(result: VerifyResult, code: string): void {
  assert.equal(result.ok, false, 'token was accepted');
  if (!result.ok) assert.equal(result.code, code, result.message);
}

const ISSUER = 'https://idp.example.test';

describe('remote JWKS over HTTP', () => {
  const idp = new FakeIdp();
  let first: TestKey;
  let second: TestKey;

  before(async () => {
    await idp.start();
    first = await testKey('key-1');
    second = await testKey('key-2');
  });
  after(() => idp.stop());
  beforeEach(() => {
    idp.keys = [first.publicJwk];
    idp.jwksStatus = 200;
    idp.hits.clear();
  });

  test('a token signed by a published key verifies, and the set is fetched once', async () => {
    const verifier = verifierFor(ISSUER, new RemoteJwksKeySource(`${idp.base}/jwks`));
    for (let i = 0; i < 3; i += 1) assert.ok((await verifier.verify(await tokenFor(first, ISSUER))).ok);
    assert.equal(idp.count('/jwks'), 1);
  });

  test('rotation: a new kid is accepted after a refetch triggered by the unknown kid', async () => {
    const verifier = verifierFor(ISSUER, new RemoteJwksKeySource(`${idp.base}/jwks`, { cooldownMs: 0 }));
    assert.ok((await verifier.verify(await tokenFor(first, ISSUER))).ok);
    idp.keys = [first.publicJwk, second.publicJwk];
    const rotated = await verifier.verify(await tokenFor(second, ISSUER));
    assert.ok(rotated.ok, rotated.ok ? '' : rotated.message);
    assert.equal(idp.count('/jwks'), 2);
  });

  test('rotation: a removed key is rejected once the cached set is refreshed', async () => {
    const verifier = verifierFor(ISSUER, new RemoteJwksKeySource(`${idp.base}/jwks`, { cooldownMs: 0, cacheMaxAgeMs: 100 }));
    assert.ok((await verifier.verify(await tokenFor(first, ISSUER))).ok);
    idp.keys = [second.publicJwk];
    // The cached set is refreshed once older than 100 ms.
    await eventually('the removed key is rejected', async () => refusedWith(await verifier.verify(await tokenFor(first, ISSUER)), 'token-unknown-key'), { timeoutMs: 5_000, intervalMs: 25 });
    assertCode(await verifier.verify(await tokenFor(first, ISSUER)), 'token-unknown-key');
    assert.ok((await verifier.verify(await tokenFor(second, ISSUER))).ok);
  });

  test('unknown kids cannot make the PDP refetch more than once per cooldown', async () => {
    const verifier = verifierFor(ISSUER, new RemoteJwksKeySource(`${idp.base}/jwks`, { cooldownMs: 60_000 }));
    assert.ok((await verifier.verify(await tokenFor(first, ISSUER))).ok);
    const stranger = await testKey('key-unknown');
    for (let i = 0; i < 5; i += 1) assertCode(await verifier.verify(await tokenFor(stranger, ISSUER)), 'token-unknown-key');
    assert.equal(idp.count('/jwks'), 1);
  });

  test('a JWKS endpoint answering 500 fails closed', async () => {
    idp.jwksStatus = 500;
    const verifier = verifierFor(ISSUER, new RemoteJwksKeySource(`${idp.base}/jwks`));
    assertCode(await verifier.verify(await tokenFor(first, ISSUER)), 'token-keys-unavailable');
  });

  test('a JWKS endpoint that goes down after the cache expires fails closed', async () => {
    const down = new FakeIdp();
    await down.start();
    down.keys = [first.publicJwk];
    const verifier = verifierFor(ISSUER, new RemoteJwksKeySource(`${down.base}/jwks`, { cacheMaxAgeMs: 50, timeoutMs: 1_000 }));
    assert.ok((await verifier.verify(await tokenFor(first, ISSUER))).ok);
    await down.stop();
    await eventually('the expired cache is not used', async () => refusedWith(await verifier.verify(await tokenFor(first, ISSUER)), 'token-keys-unavailable'), { timeoutMs: 5_000, intervalMs: 25 });
    assertCode(await verifier.verify(await tokenFor(first, ISSUER)), 'token-keys-unavailable');
  });

  test('a JWKS server that is not running fails closed with token-keys-unavailable', async () => {
    const gone = new FakeIdp();
    await gone.start();
    const url = `${gone.base}/jwks`;
    await gone.stop();
    const verifier = verifierFor(ISSUER, new RemoteJwksKeySource(url, { timeoutMs: 1_000 }));
    const result = await verifier.verify(await tokenFor(first, ISSUER));
    assertCode(result, 'token-keys-unavailable');
  });

  test('plain http to a non-loopback host is refused at configuration time', () => {
    assert.throws(() => new RemoteJwksKeySource('http://idp.example.com/jwks'), /https/);
    assert.throws(() => new OidcDiscoveryKeySource('http://idp.example.com'), /https/);
    assert.doesNotThrow(() => new RemoteJwksKeySource('http://idp.example.com/jwks', { allowInsecureHttp: true }));
  });
});

describe('OIDC discovery', () => {
  const idp = new FakeIdp();
  let key: TestKey;

  before(async () => {
    await idp.start();
    key = await testKey('disc-1');
  });
  after(() => idp.stop());
  beforeEach(() => {
    idp.keys = [key.publicJwk];
    idp.discovery = { issuer: idp.base, jwks_uri: `${idp.base}/jwks` };
    idp.hits.clear();
  });

  test('an issuer without a JWKS URL finds its keys through .well-known/openid-configuration, once', async () => {
    const verifier = verifierFor(idp.base, keySourceForIssuer({ issuer: idp.base }));
    for (let i = 0; i < 3; i += 1) {
      const result = await verifier.verify(await tokenFor(key, idp.base));
      assert.ok(result.ok, result.ok ? '' : result.message);
    }
    assert.equal(idp.count('/.well-known/openid-configuration'), 1);
    assert.equal(idp.count('/jwks'), 1);
  });

  test('concurrent first verifications share one discovery fetch', async () => {
    const verifier = verifierFor(idp.base, new OidcDiscoveryKeySource(idp.base));
    const token = await tokenFor(key, idp.base);
    const results = await Promise.all(Array.from({ length: 8 }, () => verifier.verify(token)));
    assert.ok(results.every((result) => result.ok));
    assert.equal(idp.count('/.well-known/openid-configuration'), 1);
  });

  test('a trailing slash on the issuer still finds the discovery document', async () => {
    const issuer = `${idp.base}/`;
    idp.discovery = { issuer, jwks_uri: `${idp.base}/jwks` };
    const result = await verifierFor(issuer, new OidcDiscoveryKeySource(issuer)).verify(await tokenFor(key, issuer));
    assert.ok(result.ok, result.ok ? '' : result.message);
  });

  test('a discovery document naming another issuer is refused', async () => {
    idp.discovery = { issuer: 'https://someone-else.example', jwks_uri: `${idp.base}/jwks` };
    const result = await verifierFor(idp.base, new OidcDiscoveryKeySource(idp.base)).verify(await tokenFor(key, idp.base));
    assertCode(result, 'token-keys-unavailable');
  });

  test('a discovery document without jwks_uri fails closed', async () => {
    idp.discovery = { issuer: idp.base };
    const result = await verifierFor(idp.base, new OidcDiscoveryKeySource(idp.base)).verify(await tokenFor(key, idp.base));
    assertCode(result, 'token-keys-unavailable');
  });

  test('a failed discovery is retried only after the retry interval', async () => {
    idp.discovery = undefined;
    const verifier = verifierFor(idp.base, new OidcDiscoveryKeySource(idp.base, { retryAfterMs: 100 }));
    const token = await tokenFor(key, idp.base);
    assertCode(await verifier.verify(token), 'token-keys-unavailable');
    idp.discovery = { issuer: idp.base, jwks_uri: `${idp.base}/jwks` };
    assertCode(await verifier.verify(token), 'token-keys-unavailable');
    assert.equal(idp.count('/.well-known/openid-configuration'), 1);
    // Discovery is asked again once 100 ms have passed since it failed.
    await eventually('discovery is retried and the token accepted', async () => (await verifier.verify(token)).ok, { timeoutMs: 5_000, intervalMs: 25 });
    assert.equal(idp.count('/.well-known/openid-configuration'), 2);
  });

  test('an issuer whose server is down fails closed with token-keys-unavailable', async () => {
    const gone = new FakeIdp();
    await gone.start();
    const issuer = gone.base;
    await gone.stop();
    const result = await verifierFor(issuer, new OidcDiscoveryKeySource(issuer, { timeoutMs: 1_000 })).verify(await tokenFor(key, issuer));
    assertCode(result, 'token-keys-unavailable');
  });
});
