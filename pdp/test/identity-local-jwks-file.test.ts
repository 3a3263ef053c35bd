import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { LocalJwksFileKeySource } from '../src/identity/local-jwks-file-key-source.ts';
import { JoseTokenVerifier, type VerifyResult } from '../src/identity/token-verifier.ts';
import { eventually } from '../../test/support/eventually.ts';

const ISSUER = 'https://idp.example.test';

interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function testKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA');
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' } };
}

function tokenFor(key: TestKey): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
    .setIssuer(ISSUER)
    .setSubject('agent-7')
    .setAudience('portcullis')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key.privateKey);
}

function assertCode(result: VerifyResult, code: string): void {
  assert.equal(result.ok, false, 'token was accepted');
  if (!result.ok) assert.equal(result.code, code, result.message);
}

/** Replaces the file the way a careful operator (or a secret manager) does: write aside, then rename. */
async function publish(path: string, keys: JWK[]): Promise<void> {
  await writeFile(`${path}.new`, JSON.stringify({ keys }));
  await rename(`${path}.new`, path);
}

describe('local JWKS file key source', () => {
  let dir: string;
  let first: TestKey;
  let second: TestKey;
  let counter = 0;
  const freshFile = (): string => join(dir, `jwks-${(counter += 1)}.json`);
  const verifierFor = (source: LocalJwksFileKeySource): JoseTokenVerifier =>
    new JoseTokenVerifier({ issuers: [{ issuer: ISSUER, keys: source }], audience: 'portcullis' });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-jwks-file-'));
    first = await testKey('file-1');
    second = await testKey('file-2');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a rotated file is picked up: the new key verifies and the removed one is rejected', async () => {
    const file = freshFile();
    await publish(file, [first.publicJwk]);
    const verifier = verifierFor(new LocalJwksFileKeySource(file, { checkIntervalMs: 0 }));
    assert.ok((await verifier.verify(await tokenFor(first))).ok);
    assertCode(await verifier.verify(await tokenFor(second)), 'token-unknown-key');

    await publish(file, [second.publicJwk]);
    assert.ok((await verifier.verify(await tokenFor(second))).ok);
    assertCode(await verifier.verify(await tokenFor(first)), 'token-unknown-key');
  });

  test('an in-place rewrite is picked up too', async () => {
    const file = freshFile();
    await writeFile(file, JSON.stringify({ keys: [first.publicJwk] }));
    const verifier = verifierFor(new LocalJwksFileKeySource(file, { checkIntervalMs: 0 }));
    assert.ok((await verifier.verify(await tokenFor(first))).ok);
    await writeFile(file, JSON.stringify({ keys: [first.publicJwk, second.publicJwk] }));
    assert.ok((await verifier.verify(await tokenFor(second))).ok);
  });

  test('the file is not looked at again within the check interval', async () => {
    const file = freshFile();
    await publish(file, [first.publicJwk]);
    const verifier = verifierFor(new LocalJwksFileKeySource(file, { checkIntervalMs: 200 }));
    assert.ok((await verifier.verify(await tokenFor(first))).ok);
    await publish(file, [second.publicJwk]);
    assertCode(await verifier.verify(await tokenFor(second)), 'token-unknown-key');
    // The file is checked again every 200 ms: the new key is taken up at the next check.
    await eventually('the published key is accepted', async () => (await verifier.verify(await tokenFor(second))).ok, { timeoutMs: 5_000, intervalMs: 25 });
  });

  test('a file changed into invalid JSON keeps the last good set and reports the error', async () => {
    const file = freshFile();
    await publish(file, [first.publicJwk]);
    const reported: Error[] = [];
    const verifier = verifierFor(new LocalJwksFileKeySource(file, { checkIntervalMs: 0, onReloadError: (error) => reported.push(error) }));
    assert.ok((await verifier.verify(await tokenFor(first))).ok);
    await writeFile(file, '{"keys": [');
    assert.ok((await verifier.verify(await tokenFor(first))).ok);
    assert.ok(reported.length >= 1);
  });

  test('a deleted file withdraws trust: token-keys-unavailable', async () => {
    const file = freshFile();
    await publish(file, [first.publicJwk]);
    const verifier = verifierFor(new LocalJwksFileKeySource(file, { checkIntervalMs: 0 }));
    assert.ok((await verifier.verify(await tokenFor(first))).ok);
    await unlink(file);
    assertCode(await verifier.verify(await tokenFor(first)), 'token-keys-unavailable');
  });

  test('a missing or invalid file at start fails closed', async () => {
    assertCode(await verifierFor(new LocalJwksFileKeySource(join(dir, 'absent.json'))).verify(await tokenFor(first)), 'token-keys-unavailable');
    const file = freshFile();
    await writeFile(file, JSON.stringify({ not: 'a jwks' }));
    assertCode(await verifierFor(new LocalJwksFileKeySource(file)).verify(await tokenFor(first)), 'token-keys-unavailable');
  });

  test('a token without kid verifies against a single candidate key but not when several match', async () => {
    const withoutKid = (key: TestKey): Promise<string> =>
      new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setIssuer(ISSUER).setSubject('agent-7').setAudience('portcullis').setExpirationTime('5m').sign(key.privateKey);
    const file = freshFile();
    await publish(file, [first.publicJwk]);
    const verifier = verifierFor(new LocalJwksFileKeySource(file, { checkIntervalMs: 0 }));
    assert.ok((await verifier.verify(await withoutKid(first))).ok);
    await publish(file, [first.publicJwk, second.publicJwk]);
    assertCode(await verifier.verify(await withoutKid(first)), 'token-unknown-key');
  });

  test('a JWKS holding a private key is refused', async () => {
    const file = freshFile();
    const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    await publish(file, [{ ...(await exportJWK(privateKey)), kid: first.kid, alg: 'EdDSA' }]);
    assertCode(await verifierFor(new LocalJwksFileKeySource(file)).verify(await tokenFor(first)), 'token-keys-unavailable');
  });
});
