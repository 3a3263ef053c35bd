import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { buildBundleFile } from '../support/signed-bundles.ts';
import { eventually } from '../support/eventually.ts';

describe('a signed bundle from a bundle server: verified, polled with ETag, a forged update refused', () => {
  let work: string;
  let server: Server;
  let served: Buffer;
  let requests: { ifNoneMatch: string | undefined }[];
  let pdp: TestPdp;
  let goodRevision: string;

  /** Builds the starter pack with `opa build -t wasm --signing-key`, as a bundle publisher would. */
  const buildSigned = (revision: string, privateKeyFile: string): Buffer => {
    const source = join(work, `src-${revision}`);
    cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(source, 'portcullis'), { recursive: true });
    return buildBundleFile(source, join(work, `${revision}.tar.gz`), revision, privateKeyFile);
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'portcullis-signed-'));
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(work, 'private.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(work, 'public.pem'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
    served = buildSigned('release-1', join(work, 'private.pem'));
    requests = [];
    server = createServer((request, response) => {
      requests.push({ ifNoneMatch: request.headers['if-none-match'] });
      const etag = `"${served.length}-${served.subarray(-16).toString('hex')}"`;
      if (request.headers['if-none-match'] === etag) {
        response.writeHead(304).end();
        return;
      }
      response.writeHead(200, { etag, 'content-type': 'application/gzip' }).end(served);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    pdp = await startTestPdp({
      PORTCULLIS_BUNDLE_URL: `http://127.0.0.1:${port}/bundles/portcullis.tar.gz`,
      PORTCULLIS_BUNDLE_POLL_SECONDS: '1',
      PORTCULLIS_BUNDLE_VERIFICATION_KEY: join(work, 'public.pem'),
    });
  });
  after(async () => {
    await pdp.close();
    server.close();
    rmSync(work, { recursive: true, force: true });
  });

  const health = async () => (await pdp.health()) as { status: string; policy_revision: string; bundle: { lastError: { message: string } | null } };

  it('activates the signed bundle and then polls with If-None-Match', async () => {
    const state = await health();
    assert.equal(state.policy_revision, 'release-1');
    goodRevision = state.policy_revision;
    await eventually('a later poll sends the ETag back', () => requests.some((request) => request.ifNoneMatch), { intervalMs: 100 });
    assert.ok(requests.some((request) => request.ifNoneMatch), 'a later poll sends the ETag back');
  });

  it('refuses a bundle whose policy was altered after signing, keeps serving the signed one, and says why', async () => {
    // Flip one byte inside policy.wasm of a correctly signed bundle: the signature no longer covers it.
    const tar = gunzipSync(buildSigned('release-2', join(work, 'private.pem')));
    const wasmAt = tar.indexOf(Buffer.from('\0asm'));
    assert.ok(wasmAt > 0);
    tar[wasmAt + 200] = tar[wasmAt + 200]! ^ 0xff;
    served = gzipSync(tar);
    const state = await eventually('the PDP reports the altered bundle', async () => {
      const now = await health();
      return now.bundle.lastError !== null && now;
    }, { timeoutMs: 15_000, intervalMs: 100 });
    assert.match(state.bundle.lastError?.message ?? '', /policy\.wasm/);
    assert.equal(state.status, 'degraded');
    assert.equal(state.policy_revision, goodRevision);
    const agent = await pdp.token({ sub: 'agent-signed', roles: ['reader'] });
    const { body } = await pdp.decide({ subject_token: agent, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql', sql: 'SELECT 1' } });
    assert.equal(body.effect, 'allow');
    assert.equal(body.policy_revision, goodRevision);
  });

  it('refuses a bundle signed by another key', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(work, 'other.pem'), other.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    served = buildSigned('release-3', join(work, 'other.pem'));
    const state = await eventually('the PDP reports the signature it cannot verify', async () => {
      const now = await health();
      return /signature|verif/i.test(now.bundle.lastError?.message ?? '') && now;
    }, { timeoutMs: 15_000, intervalMs: 100 });
    assert.match(state.bundle.lastError?.message ?? '', /signature|verif/i);
    assert.equal(state.policy_revision, goodRevision);
  });
});
