// The relay in front of a real kube-apiserver, with the real kubectl: Secret values masked in
// every output form kubectl asks for (JSON, YAML, jsonpath, tables, lists, watches), and for a
// client that prefers protobuf; untouched when nothing is masked. A small HTTP proxy stands where
// the PEP's pipeline calls the relay (the PEP's own suites drive it through policy).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createMaskStrategyRegistry } from '@portcullis/pep-core';
import { eventually } from '../../../../test/support/eventually.ts';
import { startTestKubeApiServer, type TestKubeApiServer } from '../../../../test/support/kube-apiserver.ts';
import { type MaskedRelayOutcome, relayMasked } from '../../src/responses/masked-relay.ts';
import type { KubeMask } from '../../src/pipeline/kube-masks.ts';
import { maskingPlan } from '../../src/responses/masking-plan.ts';
import { upstreamRequestHeaders } from '../../src/responses/upstream-request-headers.ts';

const strategies = createMaskStrategyRegistry();
const SECRET_MASKS: KubeMask[] = [
  { kind: 'json-path', path: '$.data.*', strategy: 'redact' },
  { kind: 'json-path', path: '$.stringData.*', strategy: 'redact' },
  { kind: 'json-path', path: "$.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']", strategy: 'redact' },
];
const PASSWORD = 'hunter2-correct-horse';
const PASSWORD_BASE64 = Buffer.from(PASSWORD).toString('base64');
const NEXT_PASSWORD = 'battery-staple-9';
const NEXT_PASSWORD_BASE64 = Buffer.from(NEXT_PASSWORD).toString('base64');

let kube: TestKubeApiServer;
let proxy: Server;
let masks: readonly KubeMask[] = SECRET_MASKS;
const outcomes: MaskedRelayOutcome[] = [];
let kubeconfig = '';
let proxyPort = 0;
const children: ChildProcess[] = [];

before(async () => {
  kube = await startTestKubeApiServer();
  await kube.createNamespace('team');
  await kube.kubectlOk(['create', 'secret', 'generic', 'db', '-n', 'team', `--from-literal=password=${PASSWORD}`]);
  // Applied: the last-applied-configuration annotation carries the value too.
  await kube.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'applied', namespace: 'team' }, stringData: { password: PASSWORD } }),
  });
  const ca = readFileSync(kube.caFile);
  const apiServer = new URL(kube.url);
  proxy = createServer((clientRequest, clientResponse) => {
    const plan = maskingPlan(masks, strategies);
    const headers: IncomingHttpHeaders = { ...clientRequest.headers };
    delete headers.authorization;
    delete headers.host;
    delete headers.connection;
    const upstream = httpsRequest(
      {
        host: apiServer.hostname,
        port: apiServer.port,
        ca,
        method: clientRequest.method,
        path: clientRequest.url,
        headers: { ...upstreamRequestHeaders(headers, plan), authorization: `Bearer ${kube.pepToken}` },
      },
      (upstreamResponse) => void relayMasked(upstreamResponse, clientResponse, plan).then((outcome) => outcomes.push(outcome)),
    );
    upstream.on('error', () => clientResponse.destroy());
    clientRequest.pipe(upstream);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  proxyPort = (proxy.address() as AddressInfo).port;
  kubeconfig = kube.writeKubeconfig('through-relay', { token: 'not-used-by-the-relay', server: `http://127.0.0.1:${proxyPort}` });
});

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  proxy?.closeAllConnections();
  proxy?.close();
  await kube?.stop();
});

const throughRelay = (args: string[]) => kube.kubectlOk(args, { kubeconfig });

/** A raw request through the relay, as a client library sends it. */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function assertNoPassword(text: string): void {
  for (const value of [PASSWORD, PASSWORD_BASE64, NEXT_PASSWORD, NEXT_PASSWORD_BASE64]) assert.ok(!text.includes(value), `unmasked value in: ${text.slice(0, 400)}`);
}

describe('relay in front of kube-apiserver', () => {
  it('masks kubectl get secret -o json, -o yaml and -o jsonpath', async () => {
    const json = JSON.parse(await throughRelay(['get', 'secret', 'db', '-n', 'team', '-o', 'json']));
    assert.equal(json.data.password, '****');
    assert.equal(json.metadata.name, 'db');
    const yaml = await throughRelay(['get', 'secret', 'db', '-n', 'team', '-o', 'yaml']);
    assert.match(yaml, /password: '\*\*\*\*'/);
    assertNoPassword(yaml);
    assert.equal(await throughRelay(['get', 'secret', 'db', '-n', 'team', '-o', 'jsonpath={.data.password}']), '****');
    const applied = await throughRelay(['get', 'secret', 'applied', '-n', 'team', '-o', 'json']);
    assertNoPassword(applied);
    assert.equal(JSON.parse(applied).metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], '****');
  });

  it('masks lists (kubectl get secrets -o json) and tables (kubectl get secrets, and with whole objects)', async () => {
    const list = await throughRelay(['get', 'secrets', '-n', 'team', '-o', 'json']);
    assertNoPassword(list);
    assert.deepEqual(JSON.parse(list).items.map((item: { data: { password: string } }) => item.data.password), ['****', '****']);
    const table = await throughRelay(['get', 'secrets', '-n', 'team']);
    assert.match(table, /^NAME\s+TYPE\s+DATA\s+AGE\n/);
    assert.match(table, /\napplied\s+Opaque\s+1\s/);
    // What kubectl's table request brings back: rows with metadata (the annotation masked), or whole objects.
    for (const query of ['', '&includeObject=Object']) {
      const raw = await rawGet(`/api/v1/namespaces/team/secrets?limit=500${query}`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
      const body = JSON.parse(raw.body.toString());
      assert.equal(body.kind, 'Table');
      assert.equal(body.rows.length, 2);
      assertNoPassword(raw.body.toString());
    }
  });

  it('masks metadata-only lists (what metadata informers ask for): the annotation holding the values', async () => {
    const raw = await rawGet('/api/v1/namespaces/team/secrets', { accept: 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' });
    const body = JSON.parse(raw.body.toString());
    assert.equal(body.kind, 'PartialObjectMetadataList');
    const applied = body.items.find((item: { metadata: { name: string } }) => item.metadata.name === 'applied');
    assert.equal(applied.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], '****');
    assertNoPassword(raw.body.toString());
  });

  it('masks a client that prefers protobuf: it is answered in JSON', async () => {
    const raw = await rawGet('/api/v1/namespaces/team/secrets/db', { accept: 'application/vnd.kubernetes.protobuf, */*', 'accept-encoding': 'gzip' });
    assert.equal(raw.status, 200);
    assert.match(String(raw.headers['content-type']), /^application\/json/);
    assert.equal(JSON.parse(raw.body.toString()).data.password, '****');
  });

  it('masks kubectl get secret --watch -o json, each change as it happens', async () => {
    const watch = spawn(kube.kubectlPath, ['get', 'secret', 'db', '-n', 'team', '--watch', '-o', 'json'], { env: { PATH: process.env.PATH, HOME: kube.dir, KUBECONFIG: kubeconfig } });
    children.push(watch);
    let seen = '';
    watch.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    watch.stderr.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    try {
      await eventually('the first object is printed', () => seen.includes('"password": "****"'), { timeoutMs: 30_000 });
      const patch = { stringData: { password: NEXT_PASSWORD }, metadata: { labels: { changed: 'yes' } } };
      await kube.kubectlOk(['patch', 'secret', 'db', '-n', 'team', '--type=merge', '-p', JSON.stringify(patch)]);
      await eventually('the change arrives through the watch', () => seen.includes('"changed": "yes"'), { timeoutMs: 30_000 });
    } finally {
      watch.kill('SIGTERM');
    }
    assertNoPassword(seen);
  });

  it('masks a watch of tables with whole objects', async () => {
    const raw = await rawGet('/api/v1/namespaces/team/secrets?watch=true&timeoutSeconds=1&includeObject=Object', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    const events = raw.body.toString().trim().split('\n').map((line) => JSON.parse(line));
    assert.ok(events.length >= 2);
    assert.ok(events.every((event) => event.object.kind === 'Table' && event.object.rows[0].object.data.password === '****'));
    assertNoPassword(raw.body.toString());
  });

  it('relays responses untouched when nothing is masked, protobuf included', async () => {
    masks = [];
    try {
      const json = JSON.parse(await throughRelay(['get', 'secret', 'db', '-n', 'team', '-o', 'json']));
      assert.ok([PASSWORD_BASE64, NEXT_PASSWORD_BASE64].includes(json.data.password));
      const raw = await rawGet('/api/v1/namespaces/team/secrets/db', { accept: 'application/vnd.kubernetes.protobuf' });
      assert.equal(raw.headers['content-type'], 'application/vnd.kubernetes.protobuf');
    } finally {
      masks = SECRET_MASKS;
    }
  });

  it('counts what it masked for the session entry', async () => {
    outcomes.length = 0;
    await throughRelay(['get', 'secrets', '-n', 'team', '-o', 'json']);
    const list = outcomes.find((outcome) => outcome.masked > 0);
    assert.ok(list);
    // Two passwords and the applied Secret's annotation.
    assert.equal(list.masked, 3);
    assert.equal(list.error, undefined);
  });
});
