// One client connection: the SSH handshake (ssh2), the token login decided as `connect` with the
// login name, the PEP's own login upstream, and the channels: session channels (session-channel.ts)
// and direct-tcpip forwarding, decided as `network`. Remote forwarding and Unix-socket forwarding
// are refused. Garbage or a cut connection end the session; the record ends with it.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  clientSafeText,
  type ActionAuthorizer,
  type ByteStreamMaskV1,
  type LogFunction,
  type MaskStrategyRegistry,
  type ResourceV1,
  type ServedSession,
  type SessionRecorder,
  type TerminalRecorder,
  type TerminalRecorderOptions,
} from '@portcullis/pep-core';
import ssh2, { type AuthContext, type Client, type Connection, type ServerConfig, type TcpipRequestInfo } from 'ssh2';
import { SessionChannel } from '../channels/session-channel.ts';
import { LOGIN_METHODS, tokenOf } from '../login/token-login.ts';
import type { UpstreamConnector } from '../upstream/upstream-connector.ts';
import type { SshConnectionContext, SshPepExtensions } from './ssh-connection-context.ts';

/** Login attempts per connection (OpenSSH's client tries a password three times). */
const MAX_LOGIN_ATTEMPTS = 3;

export interface SshClientSessionDeps {
  readonly hostKey: string;
  readonly resource: ResourceV1;
  readonly authorizer: ActionAuthorizer<ByteStreamMaskV1>;
  readonly recorders: (session: { id: string; client_addr?: string }, subjectToken: string) => SessionRecorder;
  readonly terminalRecorders: (options: Pick<TerminalRecorderOptions, 'session' | 'subjectToken' | 'decisionId' | 'terminal'>) => TerminalRecorder;
  readonly upstream: UpstreamConnector;
  readonly strategies: MaskStrategyRegistry;
  readonly envAllowList: readonly string[];
  readonly extensions: SshPepExtensions;
  readonly loginTimeoutMs: number;
  readonly log: LogFunction;
}

export class SshClientSession implements ServedSession {
  private readonly id = randomUUID();
  private connection: Connection | undefined;
  private context: SshConnectionContext | undefined;
  private upstreamClient: Promise<Client> | undefined;
  private loginAttempts = 0;
  private loggedIn = false;
  private readonly closed = new AbortController();

  constructor(
    private readonly socket: Socket,
    private readonly deps: SshClientSessionDeps,
  ) {}

  run(): Promise<void> {
    return new Promise((resolve) => {
      const { socket, deps } = this;
      // One ssh2 server per connection: it only parses the host key and never listens itself.
      const config: ServerConfig = { hostKeys: [deps.hostKey], ident: 'Portcullis' };
      const server = new ssh2.Server(config, (connection) => this.serve(connection));
      const loginTimer = setTimeout(() => {
        if (!this.loggedIn) socket.destroy();
      }, deps.loginTimeoutMs);
      socket.once('close', () => {
        clearTimeout(loginTimer);
        this.end('client-closed');
        resolve();
      });
      server.injectSocket(socket);
      socket.resume();
    });
  }

  shutdown(): void {
    this.connection?.end();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private serve(connection: Connection): void {
    this.connection = connection;
    // Garbage, a cut packet, a protocol violation: ssh2 reports it and ends the socket; the session ends with it.
    connection.on('error', (error: Error) => this.deps.log(`client connection ended: ${clientSafeText(error.message)}`, { session: this.id }));
    connection.on('authentication', (ctx) => void this.authenticate(ctx));
    connection.on('ready', () => this.ready());
    connection.on('session', (accept) => {
      if (!this.context) return;
      new SessionChannel(accept(), this.context, { envAllowList: this.deps.envAllowList, extensions: this.deps.extensions });
    });
    connection.on('tcpip', (accept, reject, info) => void this.directTcpip(accept, reject, info));
    connection.on('request', (_accept, reject, name) => {
      this.deps.log(`refused the global request ${clientSafeText(String(name))}`, { session: this.id });
      reject?.();
    });
    connection.on('openssh.streamlocal', (_accept, reject) => reject());
  }

  private async authenticate(ctx: AuthContext): Promise<void> {
    if (this.loggedIn) return ctx.reject();
    const pending = tokenOf(ctx);
    if (!pending) return ctx.reject([...LOGIN_METHODS]);
    this.loginAttempts += 1;
    const token = (await pending).trim();
    const session = { id: this.id, ...(this.socket.remoteAddress ? { client_addr: this.socket.remoteAddress } : {}) };
    const answer = token
      ? await this.deps.authorizer.authorize(
          { type: 'connect', protocol: 'ssh', user: ctx.username },
          { subjectToken: token, session, notify: (message) => this.deps.log(message, { session: this.id }) },
          // Nothing can be shown to a client mid-login: an approval is not waited for here.
          { approvalWaitMs: 0 },
        )
      : undefined;
    if (answer?.effect !== 'allow') {
      this.deps.log(`login refused for ${clientSafeText(ctx.username)}: ${answer ? `${answer.effect} ${answer.reasons.map((reason) => reason.code).join(', ')}` : 'no token'}`, {
        session: this.id,
        ...(answer ? { decision_id: answer.decision_id } : {}),
      });
      if (this.loginAttempts >= MAX_LOGIN_ATTEMPTS) {
        ctx.reject();
        this.connection?.end();
        return;
      }
      return ctx.reject([...LOGIN_METHODS]);
    }
    this.loggedIn = true;
    const recorder = this.deps.recorders(session, token);
    recorder.start();
    this.context = {
      subjectToken: token,
      loginName: ctx.username,
      session,
      resource: this.deps.resource,
      authorizer: this.deps.authorizer,
      recorder,
      strategies: this.deps.strategies,
      terminalRecorder: (decisionId, terminal) => this.deps.terminalRecorders({ session, subjectToken: token, decisionId, terminal }),
      closed: this.closed.signal,
      upstream: () => this.upstream(),
      log: this.deps.log,
    };
    ctx.accept();
  }

  private ready(): void {
    // Logging in upstream overlaps the client's first decision.
    this.upstream().catch(() => undefined);
  }

  /** The PEP's login on the host for this connection, opened once; a failure is tried again on the next use. */
  private upstream(): Promise<Client> {
    if (!this.upstreamClient) {
      const connecting = this.deps.upstream.connect();
      this.upstreamClient = connecting;
      connecting.then(
        (client) => client.once('close', () => {
          if (this.upstreamClient === connecting) this.upstreamClient = undefined;
        }),
        (error: Error) => {
          this.deps.log(`upstream login failed: ${error.message}`, { session: this.id });
          if (this.upstreamClient === connecting) this.upstreamClient = undefined;
        },
      );
    }
    return this.upstreamClient;
  }

  /** ssh -L / -D: the host connects out to host:port, decided as an outbound `network` action. */
  private async directTcpip(accept: () => import('ssh2').ServerChannel, reject: () => void, info: TcpipRequestInfo): Promise<void> {
    const context = this.context;
    if (!context) return reject();
    const answer = await context.authorizer.authorize(
      { type: 'network', protocol: 'ssh', direction: 'outbound', transport: 'tcp', host: info.destIP, port: info.destPort },
      { subjectToken: context.subjectToken, session: context.session, signal: context.closed, notify: (message) => context.log(message, { session: this.id }) },
      { approvalWaitMs: 0 },
    );
    if (answer.effect !== 'allow') {
      context.log(`refused forwarding to ${clientSafeText(info.destIP)}:${info.destPort}: ${answer.effect}`, { session: this.id, decision_id: answer.decision_id });
      return reject();
    }
    try {
      const upstream = await context.upstream();
      const remote = await new Promise<import('ssh2').ClientChannel>((resolve, fail) =>
        upstream.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (error, stream) => (error ? fail(error) : resolve(stream))),
      );
      const channel = accept();
      channel.pipe(remote).pipe(channel);
      const startedAt = performance.now();
      remote.once('close', () =>
        context.recorder.statement({
          text: `forward to ${info.destIP}:${info.destPort}`,
          kind: 'network',
          decisionId: answer.decision_id,
          status: 'success',
          durationMs: performance.now() - startedAt,
        }),
      );
    } catch (error) {
      context.log(`forwarding to ${clientSafeText(info.destIP)}:${info.destPort} failed upstream: ${error instanceof Error ? error.message : String(error)}`, { session: this.id });
      reject();
    }
  }

  private end(reason: string): void {
    this.closed.abort();
    this.context?.recorder.end(reason);
    void this.upstreamClient?.then((client) => client.end(), () => undefined);
  }
}
