import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { DevIssuer, devIssuerDirectory } from '../src/identity/dev-issuer.ts';
import { LocalJwksFileKeySource } from '../src/identity/local-jwks-file-key-source.ts';
import { JoseTokenVerifier } from '../src/identity/token-verifier.ts';

const TOKEN_COMMAND = fileURLToPath(new URL('../src/cli/token-command.ts', import.meta.url));

describe('dev issuer', () => {
  let root: string;
  let counter = 0;
  const freshState = (): string => join(root, `state-${(counter += 1)}`);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-dev-issuer-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('issues a token with kid, iss, aud, iat, nbf, exp, jti, roles and kind that its own key source verifies', async () => {
    const issuer = new DevIssuer({ directory: devIssuerDirectory(freshState()) });
    const token = await issuer.issue({ sub: 'agent-7', roles: ['reader', 'writer'], kind: 'agent', ttlSeconds: 900, extraClaims: { team: 'payments' } });
    const [{ kid }] = (await issuer.publicJwks()).keys as [{ kid: string }];
    const header = decodeProtectedHeader(token);
    assert.equal(header.alg, 'ES256');
    assert.equal(header.kid, kid);

    const result = await new JoseTokenVerifier({ issuers: [issuer.trustedIssuer()], audience: 'portcullis' }).verify(token);
    assert.ok(result.ok, result.ok ? '' : result.message);
    const { claims } = result.principal;
    assert.equal(claims.iss, 'portcullis-dev');
    assert.equal(claims.aud, 'portcullis');
    assert.equal(claims.team, 'payments');
    assert.equal(typeof claims.jti, 'string');
    const iat = claims.iat as number;
    assert.equal(claims.nbf, iat);
    assert.equal(claims.exp, iat + 900);
    assert.ok(Math.abs(iat - Date.now() / 1000) < 5);
    assert.deepEqual(result.principal.roles, ['reader', 'writer']);
  });

  test('keeps its keys: a second instance on the same folder has the same key and verifies the first one’s tokens', async () => {
    const directory = devIssuerDirectory(freshState());
    const one = new DevIssuer({ directory });
    const token = await one.issue({ sub: 'human-1', kind: 'human', ttlSeconds: 60 });
    const two = new DevIssuer({ directory });
    assert.deepEqual(await two.publicJwks(), await one.publicJwks());
    const result = await new JoseTokenVerifier({ issuers: [two.trustedIssuer()], audience: 'portcullis' }).verify(token);
    assert.ok(result.ok);
    assert.equal(result.principal.kind, 'human');
  });

  test('writes the private key 0600 in a 0700 folder and a public-only jwks.json other verifiers can use', async () => {
    const directory = devIssuerDirectory(freshState());
    const issuer = new DevIssuer({ directory });
    const token = await issuer.issue({ sub: 'agent-7', ttlSeconds: 60 });
    assert.equal((await stat(join(directory, 'private-key.jwk'))).mode & 0o777, 0o600);
    assert.equal((await stat(directory)).mode & 0o077, 0);
    const published = await readFile(join(directory, 'jwks.json'), 'utf8');
    assert.ok(!published.includes('"d"'), 'jwks.json contains private key material');
    const verifier = new JoseTokenVerifier({
      issuers: [{ issuer: issuer.issuer, keys: new LocalJwksFileKeySource(join(directory, 'jwks.json')) }],
      audience: 'portcullis',
    });
    assert.ok((await verifier.verify(token)).ok);
  });

  test('concurrent first use inside one process yields one key', async () => {
    const directory = devIssuerDirectory(freshState());
    const issuers = Array.from({ length: 6 }, () => new DevIssuer({ directory }));
    const tokens = await Promise.all(issuers.map((issuer) => issuer.issue({ sub: 'agent-7', ttlSeconds: 60 })));
    const verifier = new JoseTokenVerifier({ issuers: [new DevIssuer({ directory }).trustedIssuer()], audience: 'portcullis' });
    for (const token of tokens) assert.ok((await verifier.verify(token)).ok);
    assert.deepEqual((await readdir(directory)).sort(), ['jwks.json', 'private-key.jwk']);
  });

  test('concurrent first use from several processes does not corrupt or fork the key', async () => {
    const stateDir = freshState();
    const startAt = Date.now() + 2_500;
    // Each child waits for the same instant so their first uses really overlap.
    const script = `
      const { runTokenCommand } = await import(${JSON.stringify(TOKEN_COMMAND)});
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, ${startAt} - Date.now())));
      process.exitCode = await runTokenCommand(process.argv.slice(1), ${JSON.stringify(stateDir)});
    `;
    const runs = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', '--sub', `agent-${i}`], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stdout, stderr }));
        }),
      ),
    );
    const directory = devIssuerDirectory(stateDir);
    const verifier = new JoseTokenVerifier({
      issuers: [{ issuer: 'portcullis-dev', keys: new LocalJwksFileKeySource(join(directory, 'jwks.json')) }],
      audience: 'portcullis',
    });
    for (const [i, run] of runs.entries()) {
      assert.equal(run.code, 0, run.stderr);
      const result = await verifier.verify(run.stdout.trim());
      assert.ok(result.ok, result.ok ? '' : result.message);
      assert.equal(result.principal.sub, `agent-${i}`);
    }
    const jwks = JSON.parse(await readFile(join(directory, 'jwks.json'), 'utf8')) as { keys: unknown[] };
    assert.equal(jwks.keys.length, 1);
    assert.deepEqual((await readdir(directory)).sort(), ['jwks.json', 'private-key.jwk']);
  });

  test('refuses a private key file that other users can read', async () => {
    const directory = devIssuerDirectory(freshState());
    await new DevIssuer({ directory }).publicJwks();
    await chmod(join(directory, 'private-key.jwk'), 0o644);
    await assert.rejects(new DevIssuer({ directory }).issue({ sub: 'agent-7', ttlSeconds: 60 }), /chmod 600/);
    const verifier = new JoseTokenVerifier({ issuers: [new DevIssuer({ directory }).trustedIssuer()], audience: 'portcullis' });
    const result = await verifier.verify('eyJhbGciOiJFUzI1NiIsImtpZCI6IngifQ.eyJpc3MiOiJwb3J0Y3VsbGlzLWRldiJ9.AAAA');
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.code, 'token-keys-unavailable');
  });

  test('honours a configured issuer id and audience', async () => {
    const issuer = new DevIssuer({ directory: devIssuerDirectory(freshState()), issuer: 'lab-issuer', audience: 'lab' });
    const token = await issuer.issue({ sub: 'agent-7', ttlSeconds: 60 });
    const result = await new JoseTokenVerifier({ issuers: [issuer.trustedIssuer()], audience: 'lab' }).verify(token);
    assert.ok(result.ok);
    assert.equal(result.principal.iss, 'lab-issuer');
    const other = await issuer.issue({ sub: 'agent-7', ttlSeconds: 60, audience: ['lab', 'elsewhere'] });
    const otherResult = await new JoseTokenVerifier({ issuers: [issuer.trustedIssuer()], audience: 'elsewhere' }).verify(other);
    assert.ok(otherResult.ok);
  });

  test('rejects bad requests instead of minting odd tokens', async () => {
    const issuer = new DevIssuer({ directory: devIssuerDirectory(freshState()) });
    await assert.rejects(issuer.issue({ sub: '', ttlSeconds: 60 }), TypeError);
    await assert.rejects(issuer.issue({ sub: 'a', ttlSeconds: 0 }), RangeError);
    await assert.rejects(issuer.issue({ sub: 'a', ttlSeconds: 1.5 }), RangeError);
    await assert.rejects(issuer.issue({ sub: 'a', ttlSeconds: 60, roles: ['two words'] }), TypeError);
    await assert.rejects(issuer.issue({ sub: 'a', ttlSeconds: 60, kind: 'robot' as 'agent' }), TypeError);
    for (const claim of ['iss', 'sub', 'exp', 'roles', 'kind']) {
      await assert.rejects(issuer.issue({ sub: 'a', ttlSeconds: 60, extraClaims: { [claim]: 'x' } }), /extraClaims/);
    }
  });
});
