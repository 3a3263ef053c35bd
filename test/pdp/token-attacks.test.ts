import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, importJWK, type JWK } from 'jose';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('every token attack on the subject token ends in deny, never allow', () => {
  let pdp: TestPdp;
  let valid: string;
  before(async () => {
    pdp = await startTestPdp();
    valid = await pdp.token({ sub: 'agent-attacker', roles: ['reader', 'writer', 'dba', 'pii-reader'], kind: 'human' });
  });
  after(() => pdp.close());

  const decideWith = async (subjectToken: string) => {
    const { status, body } = await pdp.decide({
      subject_token: subjectToken,
      resource: { type: 'postgres', name: 'analytics-db', environment: 'staging' },
      action: { type: 'sql', sql: 'SELECT * FROM users' },
    });
    assert.equal(status, 200, 'a bad subject token is a deny answer, not an error');
    return body as { effect: string; reasons: { code: string }[]; principal: { authenticated: boolean } };
  };

  it('allows the untampered token (control)', async () => {
    const decision = await decideWith(valid);
    assert.equal(decision.effect, 'allow');
    assert.equal(decision.principal.authenticated, true);
  });

  it('denies alg none', async () => {
    const [, body] = valid.split('.');
    const decision = await decideWith(`${b64url({ alg: 'none', typ: 'JWT' })}.${body}.`);
    assert.equal(decision.effect, 'deny');
    assert.equal(decision.principal.authenticated, false);
  });

  it('denies HS256 signed with the issuer public key as the secret', async () => {
    const jwks = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(`${pdp.pdp.devIssuer!.directory}/jwks.json`, 'utf8'))) as { keys: JWK[] };
    const publicJwk = jwks.keys[0]!;
    const [, body] = valid.split('.');
    const forgedHeader = b64url({ alg: 'HS256', typ: 'JWT', kid: publicJwk.kid });
    const publicPem = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    for (const secret of [publicPem, JSON.stringify(publicJwk)]) {
      const mac = createHmac('sha256', secret).update(`${forgedHeader}.${body}`).digest('base64url');
      const decision = await decideWith(`${forgedHeader}.${body}.${mac}`);
      assert.equal(decision.effect, 'deny');
    }
  });

  it('denies expired, not-yet-valid, wrong audience and wrong issuer tokens', async () => {
    const issuer = pdp.pdp.devIssuer!;
    // Tokens signed with the issuer's own key, so only the claims are wrong.
    const expired = await Promise.resolve().then(async () => {
      const keyFile = await import('node:fs').then((fs) => JSON.parse(fs.readFileSync(`${issuer.directory}/private-key.jwk`, 'utf8')) as JWK);
      const key = await importJWK(keyFile, 'ES256');
      const now = Math.floor(Date.now() / 1000);
      const sign = (claims: Record<string, unknown>, iat: number, exp: number, nbf?: number) => {
        const jwt = new SignJWT({ roles: ['reader'], ...claims }).setProtectedHeader({ alg: 'ES256', kid: keyFile.kid! }).setSubject('a').setIssuedAt(iat).setExpirationTime(exp);
        if (nbf !== undefined) jwt.setNotBefore(nbf);
        return jwt;
      };
      return {
        expired: await sign({ iss: issuer.issuer, aud: issuer.audience }, now - 3600, now - 600).sign(key),
        future: await sign({ iss: issuer.issuer, aud: issuer.audience }, now + 3600, now + 7200, now + 3600).sign(key),
        audience: await sign({ iss: issuer.issuer, aud: 'someone-else' }, now, now + 600).sign(key),
        issuerWrong: await sign({ iss: 'https://evil.example', aud: issuer.audience }, now, now + 600).sign(key),
      };
    });
    for (const [name, token] of Object.entries(expired)) {
      const decision = await decideWith(token);
      assert.equal(decision.effect, 'deny', name);
      assert.equal(decision.principal.authenticated, false, name);
    }
  });

  it('denies an unknown kid and a key that merely claims the issuer kid', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = await exportJWK(privateKey);
    const key = await importJWK(jwk, 'ES256');
    const issuer = pdp.pdp.devIssuer!;
    const realKid = (JSON.parse((await import('node:fs')).readFileSync(`${issuer.directory}/jwks.json`, 'utf8')) as { keys: JWK[] }).keys[0]!.kid!;
    for (const kid of ['unknown-kid', realKid]) {
      const token = await new SignJWT({ roles: ['reader'] })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setSubject('a').setIssuer(issuer.issuer).setAudience(issuer.audience).setIssuedAt().setExpirationTime('10m')
        .sign(key);
      assert.equal((await decideWith(token)).effect, 'deny', kid);
    }
  });

  it('denies a tampered payload and a tampered signature', async () => {
    const [head, body, sig] = valid.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const escalated = b64url({ ...claims, sub: 'root', roles: ['dba', 'writer', 'pii-reader'] });
    assert.equal((await decideWith(`${head}.${escalated}.${sig}`)).effect, 'deny');
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    assert.equal((await decideWith(`${head}.${body}.${flipped}`)).effect, 'deny');
  });

  it('denies garbage, empty and oversized tokens', async () => {
    for (const token of ['', 'garbage', 'a.b.c', 'a.b.c.d.e', `${valid}.${'A'.repeat(100_000).slice(0, 1000)}`, 'x'.repeat(20_000)]) {
      assert.equal((await decideWith(token)).effect, 'deny', token.slice(0, 20));
    }
  });

});
