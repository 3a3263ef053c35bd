// The relay between the API server's response and the client, over real HTTP on loopback: an
// upstream that answers as the API server does (JSON, gzip, chunked watch streams, text logs,
// protobuf) and a proxy that relays it under a plan.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createMaskStrategyRegistry, type JsonPathMaskV1 } from '@portcullis/pep-core';
import { eventually } from '../../../../test/support/eventually.ts';
import { type MaskedRelayOutcome, relayMasked } from '../../src/responses/masked-relay.ts';
import type { KubeMask } from '../../src/pipeline/kube-masks.ts';
import { maskingPlan } from '../../src/responses/masking-plan.ts';
import { upstreamRequestHeaders } from '../../src/responses/upstream-request-headers.ts';

const strategies = createMaskStrategyRegistry();
const SECRET_PATHS: JsonPathMaskV1[] = [{ kind: 'json-path', path: '$.data.*', strategy: 'redact' }];
const DETECTORS: KubeMask[] = [{ kind: 'byte-stream', detectors: ['email'], strategy: 'redact' }];
const PASSWORD = 'aHVudGVyMg==';
const secret = (name: string) => ({ kind: 'Secret', apiVersion: 'v1', metadata: { name, resourceVersion: '7' }, data: { password: PASSWORD } });

type Answer = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;
let answer: Answer = (_request, response) => void response.end();
let masks: readonly KubeMask[] = [];
let lastUpstreamHeaders: IncomingMessage['headers'] = {};
let outcomes: MaskedRelayOutcome[] = [];
/** Writes the proxy made to its client sockets (each one TCP send; over TLS, one record too). */
let clientWrites = 0;

let upstream: Server;
let proxy: Server;
let proxyPort = 0;

before(async () => {
  upstream = createServer((req, res) => {
    lastUpstreamHeaders = req.headers;
    void answer(req, res);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const upstreamPort = (upstream.address() as AddressInfo).port;
  proxy = createServer((clientRequest, clientResponse) => {
    const plan = maskingPlan(masks, strategies);
    const forwarded = request(
      { host: '127.0.0.1', port: upstreamPort, method: clientRequest.method, path: clientRequest.url, headers: upstreamRequestHeaders({ ...clientRequest.headers }, plan) },
      (upstreamResponse) => void relayMasked(upstreamResponse, clientResponse, plan).then((outcome) => outcomes.push(outcome)),
    );
    forwarded.on('error', () => clientResponse.destroy());
    clientRequest.pipe(forwarded);
  });
  proxy.on('connection', (socket: Socket & { _write: Socket['_write']; _writev?: Socket['_writev'] }) => {
    const write = socket._write.bind(socket);
    const writev = socket._writev?.bind(socket);
    socket._write = (chunk, encoding, callback) => {
      clientWrites += 1;
      write(chunk, encoding, callback);
    };
    if (writev) {
      socket._writev = (chunks, callback) => {
        clientWrites += 1;
        writev(chunks, callback);
      };
    }
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  proxyPort = (proxy.address() as AddressInfo).port;
});

after(() => {
  upstream.closeAllConnections();
  proxy.closeAllConnections();
  upstream.close();
  proxy.close();
});

function setUp(given: readonly KubeMask[], answering: Answer): void {
  masks = given;
  answer = answering;
  outcomes = [];
  clientWrites = 0;
}

/** A request through the proxy: the response and its body as chunks, each as it arrived. */
function get(path: string, headers: Record<string, string> = {}, onChunk?: (chunk: Buffer) => void) {
  return new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer; error?: Error }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        onChunk?.(chunk);
      });
      const done = (error?: Error) => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), ...(error ? { error } : {}) });
      res.on('end', () => done());
      res.on('error', (error) => done(error));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Writes `text` in pieces of `size` bytes, each flushed as its own chunk. */
async function writeInPieces(response: ServerResponse, text: Buffer, size: number): Promise<void> {
  for (let at = 0; at < text.length; at += size) {
    if (!response.write(text.subarray(at, at + size))) await once(response, 'drain');
  }
}

describe('response relay', () => {
  it('masks a Secret sent in small chunks and gzip, and asks upstream for JSON without compression', async () => {
    setUp(SECRET_PATHS, async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      await writeInPieces(res, gzipSync(JSON.stringify(secret('db'))), 5);
      res.end();
    });
    const result = await get('/api/v1/namespaces/x/secrets/db', { accept: 'application/vnd.kubernetes.protobuf, application/json', 'accept-encoding': 'gzip' });
    assert.equal(lastUpstreamHeaders.accept, 'application/json');
    assert.equal(lastUpstreamHeaders['accept-encoding'], 'identity');
    assert.equal(result.status, 200);
    assert.equal(result.headers['content-encoding'], undefined);
    assert.deepEqual(JSON.parse(result.body.toString()), { ...secret('db'), data: { password: '****' } });
    await eventually('the outcome', () => outcomes.length === 1);
    assert.deepEqual(outcomes[0], { status: 200, bytes: result.body.length, masked: 1 });
  });

  it('masks each watch event as it arrives, the next one sent only after the client saw the first', async () => {
    let clientSawFirst: () => void = () => {};
    const firstSeen = new Promise<void>((resolve) => (clientSawFirst = resolve));
    setUp(SECRET_PATHS, async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      const first = Buffer.from(`${JSON.stringify({ type: 'ADDED', object: secret('a') })}\n`);
      // The event split mid-value across two chunks.
      res.write(first.subarray(0, 30));
      res.write(first.subarray(30));
      await firstSeen;
      const rest = [
        { type: 'MODIFIED', object: secret('a') },
        { type: 'BOOKMARK', object: { kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: '99' } } },
        { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired' } },
      ];
      await writeInPieces(res, Buffer.from(rest.map((event) => `${JSON.stringify(event)}\n`).join('')), 7);
      res.end();
    });
    let seen = '';
    const result = await get('/api/v1/secrets?watch=true', {}, (chunk) => {
      seen += chunk.toString();
      if (seen.includes('\n')) clientSawFirst();
    });
    const events = result.body.toString().trimEnd().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(events.map((event) => event.type), ['ADDED', 'MODIFIED', 'BOOKMARK', 'ERROR']);
    assert.equal(events[0].object.data.password, '****');
    assert.equal(events[1].object.data.password, '****');
    assert.equal(events[2].object.metadata.resourceVersion, '99');
    assert.ok(!result.body.toString().includes(PASSWORD));
    await eventually('the outcome', () => outcomes.length === 1);
    assert.equal(outcomes[0]!.masked, 2);
  });

  it('relays a response untouched, bytes and encoding, when nothing is masked', async () => {
    const compressed = gzipSync(JSON.stringify(secret('db')));
    setUp([], (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': compressed.length });
      res.end(compressed);
    });
    const result = await get('/api/v1/namespaces/x/secrets/db', { accept: 'application/vnd.kubernetes.protobuf', 'accept-encoding': 'gzip' });
    assert.equal(lastUpstreamHeaders.accept, 'application/vnd.kubernetes.protobuf');
    assert.equal(result.headers['content-encoding'], 'gzip');
    assert.deepEqual(result.body, compressed);
    await eventually('the outcome', () => outcomes.length === 1);
    assert.deepEqual(outcomes[0], { status: 200, bytes: compressed.length, masked: 0 });
  });

  it('sends a small answer in one write: its headers with its body, a chunked body with its end', async () => {
    const body = Buffer.from(JSON.stringify(secret('db')));
    setUp([], (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
    const plain = await get('/api/v1/namespaces/x/secrets/db');
    assert.deepEqual(plain.body, body);
    await eventually('the outcome', () => outcomes.length === 1);
    assert.equal(clientWrites, 1);

    setUp(SECRET_PATHS, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const masked = await get('/api/v1/namespaces/x/secrets/db');
    assert.equal(masked.headers['transfer-encoding'], 'chunked');
    assert.deepEqual(JSON.parse(masked.body.toString()), { ...secret('db'), data: { password: '****' } });
    await eventually('the outcome', () => outcomes.length === 1);
    assert.equal(clientWrites, 1);
  });

  it("sends a watch's headers at once, before its first event, masked or not", async () => {
    for (const given of [[], SECRET_PATHS]) {
      let firstEvent: () => void = () => {};
      const eventDue = new Promise<void>((resolve) => (firstEvent = resolve));
      setUp(given, async (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        await eventDue;
        res.end(`${JSON.stringify({ type: 'ADDED', object: secret('a') })}\n`);
      });
      const headersSeen = new Promise<IncomingMessage>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: proxyPort, path: '/api/v1/secrets?watch=true' }, resolve);
        req.once('error', reject);
        req.end();
      });
      const response = await headersSeen;
      assert.equal(response.statusCode, 200);
      firstEvent();
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      assert.equal(JSON.parse(Buffer.concat(chunks).toString()).type, 'ADDED');
    }
  });

  it('withholds protobuf, YAML or anything else when masks apply, with a Status that quotes none of it', async () => {
    for (const contentType of ['application/vnd.kubernetes.protobuf', 'application/yaml', 'application/cbor', 'text/plain']) {
      setUp(SECRET_PATHS, (_req, res) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(`password: ${PASSWORD}`);
      });
      const result = await get('/api/v1/namespaces/x/secrets/db');
      assert.equal(result.status, 502, contentType);
      const status = JSON.parse(result.body.toString());
      assert.equal(status.kind, 'Status');
      assert.match(status.message, /withheld/);
      assert.ok(!result.body.toString().includes(PASSWORD));
      await eventually('the outcome', () => outcomes.length === 1);
      assert.equal(outcomes[0]!.withheld, 'not-json');
    }
  });

  it('withholds a response in an encoding it cannot decode', async () => {
    setUp(SECRET_PATHS, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
      res.end(JSON.stringify(secret('db')));
    });
    const result = await get('/api/v1/namespaces/x/secrets/db');
    assert.equal(result.status, 502);
    assert.ok(!result.body.toString().includes(PASSWORD));
  });

  it('passes an empty answer of any type when masks apply (a HEAD, a 204)', async () => {
    setUp(SECRET_PATHS, (_req, res) => {
      res.writeHead(204, { 'content-type': 'application/vnd.kubernetes.protobuf' });
      res.end();
    });
    const result = await get('/api/v1/namespaces/x/secrets/db');
    assert.equal(result.status, 204);
    assert.equal(result.body.length, 0);
  });

  it('cuts the connection at JSON it cannot read, relaying nothing of it', async () => {
    setUp(SECRET_PATHS, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: secret('a') })}\n`);
      res.end(`{"type":"ADDED","object":{"data":{"password":"${PASSWORD}"}} trailing ${PASSWORD}`);
    });
    const result = await get('/api/v1/secrets?watch=1');
    assert.ok(result.error, 'the client sees the response break off');
    assert.ok(!result.body.toString().includes(PASSWORD));
    await eventually('the outcome', () => outcomes.length === 1);
    assert.ok(outcomes[0]!.error);
  });

  it('cuts the connection at a value larger than the limit', async () => {
    const big = { ...secret('a'), data: { password: PASSWORD, padding: 'x'.repeat(70 * 1024 * 1024) } };
    setUp(SECRET_PATHS, async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      await writeInPieces(res, Buffer.from(JSON.stringify(big)), 1024 * 1024);
      res.end();
    });
    const result = await get('/api/v1/namespaces/x/secrets/a');
    assert.ok(result.error);
    assert.ok(!result.body.toString().includes(PASSWORD));
    await eventually('the outcome', () => outcomes.length === 1);
    assert.equal(outcomes[0]!.withheld, 'too-large');
  });

  it('streams logs through the detectors, a line shown before the next is written, a value split across chunks found', async () => {
    let clientSawLine: () => void = () => {};
    const lineSeen = new Promise<void>((resolve) => (clientSawLine = resolve));
    setUp(DETECTORS, async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('starting worker\n');
      await lineSeen;
      res.write('mail sent to ann@exa');
      res.write('mple.com by job 12\n');
      res.end('done\n');
    });
    let seen = '';
    const result = await get('/api/v1/namespaces/x/pods/p/log?follow=true', {}, (chunk) => {
      seen += chunk.toString();
      if (seen.includes('starting worker\n')) clientSawLine();
    });
    assert.equal(result.body.toString(), 'starting worker\nmail sent to **** by job 12\ndone\n');
    await eventually('the outcome', () => outcomes.length === 1);
    assert.equal(outcomes[0]!.masked, 1);
  });

  it('masks a JSON document by detectors (ConfigMap values)', async () => {
    setUp(DETECTORS, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'ConfigMap', data: { owner: 'ann@example.com' } }));
    });
    const result = await get('/api/v1/namespaces/x/configmaps/c');
    assert.equal(JSON.parse(result.body.toString()).data.owner, '****');
  });

  it('stops the upstream response when the client goes away mid-watch', async () => {
    let upstreamClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    setUp(SECRET_PATHS, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: secret('a') })}\n`);
      res.on('close', upstreamClosed);
    });
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, path: '/api/v1/secrets?watch=true' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.on('close', resolve);
      req.once('error', reject);
      req.end();
    });
    await closed;
    await eventually('the outcome', () => outcomes.length === 1);
    assert.ok(outcomes[0]!.error);
    assert.equal(outcomes[0]!.masked, 1);
  });
});
