// A stand-in for the kubelet, so exec, attach and port-forward get past the API server in tests
// (no real kubelet runs here): a Node object whose kubelet endpoint is this HTTPS server, and
// pods bound to it. The API server reaches it with its own SPDY client (translating kubectl's
// WebSocket) or relays kubectl's SPDY session to it as it is; it answers the upgrade, reads the
// streams' headers with the SPDY/3 dictionary, and runs a scripted "command": stdout says what
// was asked, stdin is echoed (an `exit` line ends it), resizes are noted, port-forward data is
// echoed per port. It records every stream it saw, so a test knows what reached the "node".
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { Duplex } from 'node:stream';
import { parseHeaderBlock, writeHeaderBlock } from '@portcullis/pep-kubernetes/testing';
import { encodeSpdyFrame, readSynStream, SPDY_CONTROL, SPDY_FLAG_FIN, SpdyFrameReader, SpdyHeaderDeflater, SpdyHeaderInflater } from '@portcullis/pep-kubernetes/testing';
import { issueCertificate, createTestCa } from '../support/test-certificates.ts';
import type { TestKubeApiServer } from '../support/kube-apiserver.ts';

export interface KubeletStream {
  readonly session: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface StandInKubelet {
  readonly nodeName: string;
  /** Every SPDY stream opened at the kubelet, with its headers, in order. */
  readonly streams: KubeletStream[];
  /** Every upgrade request the kubelet received (path and query). */
  readonly requests: string[];
  /** Bytes each port-forward port received. */
  readonly portBytes: Map<number, number>;
  stop(): Promise<void>;
}

const STATUS_SUCCESS = Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' }));

export async function startStandInKubelet(api: TestKubeApiServer): Promise<StandInKubelet> {
  const ca = createTestCa(api.dir, 'kubelet-ca');
  const cert = issueCertificate(ca, api.dir, 'kubelet', { ipAddresses: ['127.0.0.1'] });
  const streams: KubeletStream[] = [];
  const requests: string[] = [];
  const portBytes = new Map<number, number>();
  const sockets = new Set<Duplex>();
  const server: Server = createServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }, (_request, response) => {
    response.writeHead(404).end();
  });
  server.on('upgrade', (request, socket: Duplex) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const url = request.url ?? '';
    requests.push(url);
    const offered = String(request.headers['x-stream-protocol-version'] ?? '').split(',').map((value) => value.trim());
    const portForward = url.toLowerCase().startsWith('/portforward/');
    const protocol = portForward ? 'portforward.k8s.io' : ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io'].find((name) => offered.includes(name));
    if (String(request.headers.upgrade).toLowerCase() !== 'spdy/3.1' || protocol === undefined || !offered.includes(protocol)) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
    new KubeletSession(socket, url, portForward, streams, portBytes).run();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const nodeName = `stand-in-${randomUUID().slice(0, 8)}`;
  await api.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName } }) });
  await api.kubectlOk([
    'patch', 'node', nodeName, '--subresource=status', '--type=merge', '-p',
    JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } }),
  ]);
  return {
    nodeName,
    streams,
    requests,
    portBytes,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A pod bound to the stand-in node, marked Running (kubectl port-forward asks for a running pod). */
export async function createBoundPod(api: TestKubeApiServer, kubelet: StandInKubelet, namespace: string, name: string): Promise<void> {
  await api.kubectlOk(['create', '-n', namespace, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: kubelet.nodeName, containers: [{ name: 'main', image: 'busybox' }] } }),
  });
  await api.kubectlOk(['patch', 'pod', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running' } })]);
}

/** One SPDY session at the kubelet: a scripted command or an echoing port-forward. */
class KubeletSession {
  private readonly id = randomUUID();
  private readonly reader = new SpdyFrameReader(1 << 24);
  private readonly inflater = new SpdyHeaderInflater();
  private readonly deflater = new SpdyHeaderDeflater();
  private readonly byType = new Map<string, number>();
  private readonly roles = new Map<number, { type: string; port?: number }>();
  private readonly expected: Set<string>;
  private started = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: Duplex,
    private readonly path: string,
    private readonly portForward: boolean,
    private readonly streams: KubeletStream[],
    private readonly portBytes: Map<number, number>,
  ) {
    const query = new URLSearchParams(path.split('?')[1] ?? '');
    // The API server names them input, output, error and tty toward the kubelet.
    const on = (name: string): boolean => query.get(name) === '1' || query.get(name) === 'true';
    const tty = on('tty');
    this.expected = new Set(['error', ...(on('output') ? ['stdout'] : []), ...(on('error') && !tty ? ['stderr'] : []), ...(on('input') ? ['stdin'] : []), ...(tty ? ['resize'] : [])]);
  }

  run(): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.queue = this.queue.then(() => this.receive(chunk)).catch(() => void this.socket.destroy());
    });
    this.socket.on('close', () => {
      this.inflater.close();
      this.deflater.close();
    });
  }

  private async receive(chunk: Buffer): Promise<void> {
    for (const frame of this.reader.push(chunk)) {
      if (frame.kind === 'control') {
        if (frame.type !== SPDY_CONTROL.synStream) continue;
        const syn = readSynStream(frame.payload);
        const headers = Object.fromEntries([...parseHeaderBlock(await this.inflater.inflate(syn.headerBlock))].map(([name, values]) => [name, values.join(',')]));
        this.streams.push({ session: this.id, path: this.path, headers });
        const type = headers.streamtype ?? '';
        this.roles.set(syn.streamId, { type, ...(headers.port ? { port: Number(headers.port) } : {}) });
        this.byType.set(type, syn.streamId);
        const reply = Buffer.alloc(4);
        reply.writeUInt32BE(syn.streamId);
        this.send({ kind: 'control', type: SPDY_CONTROL.synReply, flags: 0, payload: Buffer.concat([reply, await this.deflater.deflate(writeHeaderBlock(new Map()))]) });
        if (!this.portForward) this.maybeStart();
        continue;
      }
      const role = this.roles.get(frame.streamId);
      if (!role) continue;
      if (this.portForward) {
        if (role.type === 'data' && role.port !== undefined && frame.data.length > 0) {
          this.portBytes.set(role.port, (this.portBytes.get(role.port) ?? 0) + frame.data.length);
          this.send({ kind: 'data', streamId: frame.streamId, flags: 0, data: Buffer.concat([Buffer.from(`port ${role.port}: `), frame.data]) });
        }
        continue;
      }
      if (role.type === 'stdin') {
        if (frame.data.length > 0) this.stdout(Buffer.concat([Buffer.from('echo: '), frame.data]));
        if (frame.data.includes('exit') || (frame.flags & SPDY_FLAG_FIN) !== 0) this.finish();
      }
      if (role.type === 'resize' && frame.data.length > 0) this.stdout(Buffer.from(`resized ${frame.data.toString().trim()}\r\n`));
    }
  }

  /** Once every stream the query asks for is open, the "command" says what it is; without stdin it ends at once. */
  private maybeStart(): void {
    if (this.started || ![...this.expected].every((type) => this.byType.has(type))) return;
    this.started = true;
    const query = new URLSearchParams(this.path.split('?')[1] ?? '');
    this.stdout(Buffer.from(`ran: ${query.getAll('command').join(' ') || '(attach)'}\r\n`));
    if (!this.expected.has('stdin')) this.finish();
  }

  private stdout(data: Buffer): void {
    const id = this.byType.get('stdout');
    if (id !== undefined) this.send({ kind: 'data', streamId: id, flags: 0, data });
  }

  private finish(): void {
    for (const type of ['stdout', 'stderr']) {
      const id = this.byType.get(type);
      if (id !== undefined) this.send({ kind: 'data', streamId: id, flags: SPDY_FLAG_FIN, data: Buffer.alloc(0) });
    }
    const error = this.byType.get('error');
    if (error !== undefined) this.send({ kind: 'data', streamId: error, flags: SPDY_FLAG_FIN, data: STATUS_SUCCESS });
  }

  private send(frame: Parameters<typeof encodeSpdyFrame>[0]): void {
    if (!this.socket.destroyed) this.socket.write(encodeSpdyFrame(frame));
  }
}
