// The PEP's client towards the API server ends an upstream request when its client goes away
// (the pipeline's abort signal): mid-stream, as a watch is, the upstream connection closes; before
// sending, nothing is sent; and a request that completes lets go of the signal, so a long-lived
// signal gathers no listeners. A real HTTPS server with throwaway certificates stands for the
// API server.
import assert from 'node:assert/strict';
import { getEventListeners, once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestCa, issueCertificate } from '../../../../test/support/test-certificates.ts';
import { HttpsKubeUpstream } from '../../src/upstream/https-kube-upstream.ts';

let dir: string;
let server: Server;
let upstream: HttpsKubeUpstream;
const requests: string[] = [];
/** Resolved with each request's path once the server sees its connection close. */
const closed = new Map<string, Promise<void>>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-kube-upstream-'));
  const ca = createTestCa(dir, 'upstream-ca');
  const leaf = issueCertificate(ca, dir, 'upstream', { ipAddresses: ['127.0.0.1'] });
  server = createServer({ cert: readFileSync(leaf.certFile), key: readFileSync(leaf.keyFile) }, (request, response) => {
    const path = request.url ?? '';
    requests.push(path);
    closed.set(path, once(response, 'close').then(() => undefined));
    if (path.startsWith('/watch')) {
      // A watch: the head and a first event, then the stream stays open.
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"type":"ADDED"}\n');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"ConfigMap"}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  upstream = new HttpsKubeUpstream({ url: new URL(`https://127.0.0.1:${port}`), ca: readFileSync(ca.certFile, 'utf8'), credential: { kind: 'token', token: () => 'pep-token' }, connectTimeoutMs: 5000 });
});

after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HttpsKubeUpstream and the client going away', () => {
  it('ends a streaming upstream request when the signal aborts, and the upstream connection closes', async () => {
    const aborter = new AbortController();
    const response = await upstream.request({ method: 'GET', target: '/watch/cm?watch=1', headers: {}, signal: aborter.signal });
    const [first] = (await once(response, 'data')) as [Buffer];
    assert.equal(first.toString(), '{"type":"ADDED"}\n');
    // The relay listens for the response's error as well: a stream cut short is one.
    const errors: Error[] = [];
    response.on('error', (error) => errors.push(error));
    // Not events.once: it would reject on that error.
    const responseClosed = new Promise<void>((resolve) => response.once('close', () => resolve()));
    aborter.abort();
    await closed.get('/watch/cm?watch=1');
    await responseClosed;
    assert.equal(response.complete, false);
    assert.equal(errors.length, 1);
    assert.equal(getEventListeners(aborter.signal, 'abort').length, 0);
  });

  it('sends nothing when the signal has aborted before the request', async () => {
    const aborter = new AbortController();
    aborter.abort();
    const before = requests.length;
    await assert.rejects(upstream.request({ method: 'GET', target: '/never', headers: {}, signal: aborter.signal }), /went away/);
    // A request that follows on the same pool is the next one the server sees.
    const response = await upstream.request({ method: 'GET', target: '/after', headers: {} });
    response.resume();
    await once(response, 'end');
    assert.deepEqual(requests.slice(before), ['/after']);
  });

  it('lets go of the signal once a request completes: a signal that outlives many requests gathers no listeners', async () => {
    const aborter = new AbortController();
    for (let index = 0; index < 20; index += 1) {
      const response = await upstream.request({ method: 'GET', target: `/configmaps/cm-${index}`, headers: {}, signal: aborter.signal });
      // Node closes the request (which lets go of the signal) before the response it answered.
      const responseClosed = once(response, 'close');
      let body = '';
      for await (const chunk of response) body += String(chunk);
      assert.equal(body, '{"kind":"ConfigMap"}');
      await responseClosed;
      assert.equal(getEventListeners(aborter.signal, 'abort').length, 0, `after request ${index}`);
    }
    assert.equal(aborter.signal.aborted, false);
  });
});
