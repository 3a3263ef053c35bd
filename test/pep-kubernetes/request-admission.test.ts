// What the PEP refuses before anything is decided or forwarded, each with a Status kubectl (or any
// client) can read, and none of it in the API server's audit log: headers claiming another
// identity in any spelling, paths that could be read two ways, absolute-form targets, requests
// without a token, malformed requests, oversize and non-JSON bodies.
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

describe('requests the Kubernetes PEP refuses before deciding', () => {
  let stack: KubePepStack;
  let admin: string;

  before(async () => {
    stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_KUBERNETES_IDENTITY_HEADERS: 'X-Forwarded-User,x-auth-request-*', PORTCULLIS_PEP_KUBERNETES_MAX_BODY_BYTES: '4096' } });
    await stack.kube.createNamespace('apps');
    admin = await stack.token('ops-admin', ['writer'], 'human');
  });
  after(() => stack?.close());

  /** Nothing whose URI carries `marker` reached the API server. */
  const neverReached = async (marker: string): Promise<void> => {
    const reached = (await stack.kube.settledAuditEvents()).filter((event) => event.requestURI.includes(marker));
    assert.deepEqual(reached.map((event) => event.requestURI), []);
  };

  const statusOf = (body: string): { kind: string; code: number; reason: string; message: string } => JSON.parse(body);

  it('refuses kubectl --as and --as-group with Forbidden, and nothing reaches the API server', async () => {
    const token = await stack.token('agent-reader', ['reader']);
    const result = await stack.kubectl(token, ['get', 'configmaps', '-n', 'apps', '--as', 'system:admin', '--as-group', 'system:masters', '-l', 'probe=as-flag']);
    assert.notEqual(result.code, 0);
    // Discovery is refused first; kubectl's discovery client prints the reason only.
    assert.match(result.stderr, /Error from server \(Forbidden\)/);
    const raw = await stack.kubectl(token, ['get', '--raw', '/api/v1/namespaces/apps/configmaps?labelSelector=probe%3Das-flag', '--as', 'system:admin']);
    assert.notEqual(raw.code, 0);
    assert.match(raw.stderr, /Error from server \(Forbidden\): portcullis: the impersonate-user header is not accepted/);
    await neverReached('probe%3Das-flag');
  });

  it('refuses every identity header in any letter case: Impersonate-*, X-Remote-*, and the configured ones', async () => {
    const token = await stack.token('agent-reader', ['reader']);
    const headers: Record<string, string>[] = [
      { 'IMPERSONATE-USER': 'kube-admin' },
      { 'impersonate-group': 'system:masters' },
      { 'Impersonate-Uid': '1' },
      { 'Impersonate-Extra-Scopes': 'all' },
      { 'X-Remote-User': 'kube-admin' },
      { 'x-remote-group': 'system:masters' },
      { 'X-Forwarded-User': 'kube-admin' },
      { 'X-Auth-Request-Email': 'root@example.com' },
    ];
    for (const [index, header] of headers.entries()) {
      const response = await stack.request({ target: `/api/v1/namespaces/apps/configmaps?labelSelector=probe%3Did-${index}`, token, headers: header });
      assert.equal(response.status, 403, JSON.stringify(header));
      const status = statusOf(response.body);
      assert.equal(status.kind, 'Status');
      assert.equal(status.reason, 'Forbidden');
      assert.match(status.message, new RegExp(`the ${Object.keys(header)[0]!.toLowerCase()} header is not accepted`));
    }
    await neverReached('probe%3Did-');
  });

  it('refuses paths that could be read two ways, never normalising them, and forwards none', async () => {
    const token = await stack.token('agent-reader', ['reader']);
    const paths = [
      '/api/v1/namespaces/apps/../kube-system/secrets/probe-1',
      '/api/v1/namespaces/apps/./configmaps/probe-2',
      '/api/v1/namespaces/apps/%2e%2e/kube-system/secrets/probe-3',
      '/api/v1/namespaces/apps//configmaps/probe-4',
      '/api/v1/namespaces/apps%2Fconfigmaps/probe-5',
      '/api/v1/namespaces/apps/configmaps/probe-6/',
      '/api/v1/namespaces/apps\\configmaps/probe-7',
      '//api/v1/namespaces/apps/configmaps/probe-8',
      '/api/v1/namespaces/apps/configmaps/probe-9%zz',
      '/api/v1/namespaces/apps/configmaps/probe-10%00',
      '/api/v1/namespaces/apps/configmaps/probe-11%ff',
    ];
    for (const path of paths) {
      const response = await stack.request({ target: path, token });
      assert.equal(response.status, 400, path);
      const status = statusOf(response.body);
      assert.equal(status.reason, 'BadRequest');
      assert.match(status.message, /the path is not canonical/, path);
    }
    await neverReached('probe-');
  });

  it('refuses absolute-form and asterisk targets', async () => {
    const token = await stack.token('agent-reader', ['reader']);
    for (const target of [`${stack.kube.url}/api/v1/namespaces/apps/configmaps/probe-abs`, 'http://probe-abs.example/api', '*']) {
      const response = await stack.request({ method: target === '*' ? 'OPTIONS' : 'GET', target, token });
      assert.equal(response.status, 400, target);
      assert.match(statusOf(response.body).message, /only origin-form request targets/);
    }
    await neverReached('probe-abs');
  });

  it('answers a request without a bearer token (or with another scheme) 401 Unauthorized', async () => {
    const response = await stack.request({ target: '/api/v1/namespaces/apps/configmaps?labelSelector=probe%3Dno-token' });
    assert.equal(response.status, 401);
    assert.equal(statusOf(response.body).reason, 'Unauthorized');
    const basic = await stack.request({ target: '/api/v1/namespaces/apps/configmaps?labelSelector=probe%3Dno-token', headers: { authorization: 'Basic a3ViZTphZG1pbg==' } });
    assert.equal(basic.status, 401);
    await neverReached('probe%3Dno-token');
  });

  it('answers a malformed HTTP request with a BadRequest Status and closes the connection', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: stack.pep.port, ca: readFileSync(stack.pepCaFile), ALPNProtocols: ['http/1.1'] }, () => {
        socket.write('GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
      });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400 BadRequest\r\n/);
    const status = statusOf(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    assert.equal(status.kind, 'Status');
    assert.match(status.message, /malformed HTTP request/);
  });

  it('refuses a body over the limit with 413 before deciding, whether declared or streamed', async () => {
    const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe-big' }, data: { blob: 'x'.repeat(8192) } });
    const declared = await stack.request({ method: 'POST', target: '/api/v1/namespaces/apps/configmaps', token: admin, headers: { 'content-type': 'application/json' }, body: big });
    assert.equal(declared.status, 413);
    assert.equal(statusOf(declared.body).reason, 'RequestEntityTooLarge');
    const streamed = await stack.request({ method: 'POST', target: '/api/v1/namespaces/apps/configmaps', token: admin, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body: big });
    assert.equal(streamed.status, 413);
    const viaKubectl = await stack.kubectl(admin, ['create', '-f', '-'], { input: big });
    assert.match(viaKubectl.stderr, /RequestEntityTooLarge|larger than 4096 bytes/);
    const events = await stack.kube.settledAuditEvents();
    assert.equal(events.filter((event) => event.verb === 'create' && event.objectRef?.namespace === 'apps' && event.objectRef.resource === 'configmaps').length, 0);
  });

  it('refuses bodies that are protobuf or malformed JSON with a clear Status', async () => {
    const target = '/api/v1/namespaces/apps/configmaps';
    const protobuf = await stack.request({ method: 'POST', target, token: admin, headers: { 'content-type': 'application/vnd.kubernetes.protobuf' }, body: Buffer.from([0x6b, 0x38, 0x73, 0x00]) });
    assert.equal(protobuf.status, 415);
    assert.equal(statusOf(protobuf.body).reason, 'UnsupportedMediaType');
    const malformed = await stack.request({ method: 'POST', target, token: admin, headers: { 'content-type': 'application/json' }, body: '{"kind": "ConfigMap",' });
    assert.equal(malformed.status, 400);
    assert.match(statusOf(malformed.body).message, /not valid JSON/);
    const events = await stack.kube.settledAuditEvents();
    assert.equal(events.filter((event) => event.verb === 'create' && event.objectRef?.namespace === 'apps' && event.objectRef.resource === 'configmaps').length, 0);
  });
});
