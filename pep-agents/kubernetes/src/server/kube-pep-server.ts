import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { listenOn, type LogFunction } from '@portcullis/pep-core';
import type { RequestPipeline } from '../pipeline/request-pipeline.ts';
import type { UpgradeContext, UpgradeHandler } from '../pipeline/upgrade-handler.ts';
import type { KubeRequest } from '../request/kube-request.ts';
import { readRequestBody } from '../request/request-body.ts';
import { kubeStatus, statusResponseHead, writeStatus } from '../status/kube-status.ts';
import { KubeSession, type KubeSessionDeps } from './kube-session.ts';
import { admitRequest } from './request-admission.ts';

export interface KubePepServerDeps {
  readonly tls: { readonly cert: string; readonly key: string };
  readonly pipeline: RequestPipeline;
  /** The upgrades seam (exec, attach, port-forward). */
  readonly upgrade: UpgradeHandler;
  /** What an upgrade handler is given besides the request and its session. */
  readonly upgradeContext: Pick<UpgradeContext, 'upstream' | 'impersonationFor' | 'log'> & {
    readonly terminalRecorder: (session: KubeSession, recording: Parameters<UpgradeContext['terminalRecorder']>[0]) => ReturnType<UpgradeContext['terminalRecorder']>;
  };
  readonly session: KubeSessionDeps;
  readonly identityHeaders: readonly string[];
  readonly maxBodyBytes: number;
  readonly maxConnections: number;
  readonly log: LogFunction;
}

/** How long requests in flight (a watch, a held approval) may go on once the PEP is stopping. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * The PEP's HTTPS front (HTTP/1.1 only): admits each request, opens a session per connection and
 * token, reads the body within the limit, and hands the request to the pipeline (or an upgrade to
 * the upgrade handler).
 */
export class KubePepServer {
  private readonly server: Server;
  private readonly sessions = new WeakMap<Socket, Map<string, KubeSession>>();
  private readonly open = new Set<KubeSession>();
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(private readonly deps: KubePepServerDeps) {
    this.server = createServer({ cert: deps.tls.cert, key: deps.tls.key, ALPNProtocols: ['http/1.1'], requestTimeout: 0 });
    this.server.maxConnections = deps.maxConnections;
    this.server.on('request', (incoming: IncomingMessage, response: ServerResponse) => this.track(this.onRequest(incoming, response)));
    this.server.on('upgrade', (incoming: IncomingMessage, socket: Duplex, head: Buffer) => this.track(this.onUpgrade(incoming, socket, head)));
    // A request Node cannot parse (malformed head, oversize headers): a Status, then the connection ends.
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) return socket.destroy();
      const code = error.code === 'HPE_HEADER_OVERFLOW' ? 'request headers too large' : 'malformed HTTP request';
      socket.end(statusResponseHead(kubeStatus(400, `portcullis: ${code}`)));
    });
    this.server.on('tlsClientError', () => undefined);
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.server, host, port);
  }

  get sessionCount(): number {
    return this.open.size;
  }

  /** Stops accepting, lets requests in flight finish for a short grace, then ends every connection and session record. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([Promise.all([...this.running]), grace]);
    this.stopping.abort();
    this.server.closeAllConnections();
    await Promise.all([...this.running]);
    for (const session of this.open) session.end('pep-shutdown');
    this.open.clear();
    await closed;
  }

  private track(work: Promise<void>): void {
    const running = work.catch((error: unknown) => this.deps.log(`request handling failed: ${error instanceof Error ? error.message : String(error)}`)).finally(() => this.running.delete(running));
    this.running.add(running);
  }

  private async onRequest(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const admitted = admitRequest(incoming, this.deps.identityHeaders);
    // Refused before its body was read: the connection is not reused for what follows the body.
    if ('refusal' in admitted) return void writeStatus(response, admitted.refusal, { close: true });
    const read = await readRequestBody(incoming, this.deps.maxBodyBytes);
    if ('aborted' in read) return;
    if ('tooLarge' in read) {
      writeStatus(response, kubeStatus(413, `portcullis: the request body is larger than ${this.deps.maxBodyBytes} bytes`), { close: true });
      return;
    }
    const request: KubeRequest = { method: incoming.method ?? '', path: admitted.path, rawQuery: admitted.rawQuery, headers: incoming.headers, body: read.body };
    const session = this.sessionFor(incoming.socket, admitted.token);
    await session.track(() => this.deps.pipeline.handle(request, response, session));
  }

  private async onUpgrade(incoming: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    const admitted = admitRequest(incoming, this.deps.identityHeaders);
    if ('refusal' in admitted) return void socket.end(statusResponseHead(admitted.refusal));
    const request: KubeRequest = { method: incoming.method ?? '', path: admitted.path, rawQuery: admitted.rawQuery, headers: incoming.headers, body: Buffer.alloc(0) };
    const session = this.sessionFor(incoming.socket, admitted.token);
    const { upstream, impersonationFor, log, terminalRecorder } = this.deps.upgradeContext;
    await session.track(() =>
      this.deps.upgrade({
        request,
        incoming,
        socket,
        head,
        session,
        upstream,
        impersonationFor,
        terminalRecorder: (recording) => terminalRecorder(session, recording),
        log,
        signal: this.stopping.signal,
      }),
    );
  }

  private sessionFor(socket: Socket, token: string): KubeSession {
    let byToken = this.sessions.get(socket);
    if (byToken === undefined) {
      byToken = new Map();
      this.sessions.set(socket, byToken);
      const sessions = byToken;
      socket.once('close', () => {
        for (const session of sessions.values()) {
          session.end('client-closed');
          this.open.delete(session);
        }
        sessions.clear();
      });
    }
    let session = byToken.get(token);
    if (session === undefined) {
      session = new KubeSession(token, socket.remoteAddress, this.deps.session);
      byToken.set(token, session);
      this.open.add(session);
    }
    return session;
  }
}
