// One client connection: the SSH handshake (ssh2), the token login decided as `connect` with the
// login name, the PEP's own login upstream, and the channels: session channels (session-channel.ts),
// local and remote TCP forwarding decided as `network` (forwarding/). Unix-socket forwarding is
// refused. Garbage or a cut connection end the session; the record ends with it.
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
import ssh2, { type AuthContext, type Client, type Connection, type ServerConfig } from 'ssh2';
import { SessionChannel } from '../channels/session-channel.ts';
import { openLocalForward } from '../forwarding/local-forwarding.ts';
import { RemoteForwards } from '../forwarding/remote-forwarding.ts';
import { LOGIN_METHODS, tokenOf } from '../login/token-login.ts';
import type { UpstreamConnector } from '../upstream/upstream-connector.ts';
import type { SshConnectionContext, SshPepExtensions } from './ssh-connection-context.ts';
import type { StartupGate } from './startup-gate.ts';

/** Login attempts per connection (OpenSSH's client tries a password three times). */
const MAX_LOGIN_ATTEMPTS = 3;
/** How long the record waits, after the client left, for the entries of what was still running. */
const INFLIGHT_GRACE_MS = 10_000;

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
  readonly maxSessionsPerConnection: number;
  /** Places for connections that have not logged in yet. */
  readonly startups: StartupGate;
  readonly log: LogFunction;
}

export class SshClientSession implements ServedSession {
  private readonly id = randomUUID();
  private connection: Connection | undefined;
  private context: SshConnectionContext | undefined;
  private upstreamClient: Promise<Client> | undefined;
  private loginAttempts = 0;
  private openSessions = 0;
  private loggedIn = false;
  private leaveStartup: () => void = () => undefined;
  private readonly closed = new AbortController();
  private remoteForwards: RemoteForwards | undefined;
  /** Channels and tunnels whose session entries are still to be written. */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly socket: Socket,
    private readonly deps: SshClientSessionDeps,
  ) {}

  run(): Promise<void> {
    return new Promise((resolve) => {
      const { socket, deps } = this;
      const leaveStartup = deps.startups.enter(socket.remoteAddress ?? '');
      if (!leaveStartup) {
        // Like sshd past MaxStartups: closed before the handshake, without a word.
        deps.log('refused a connection: too many from its address (or in all) have not logged in yet', { session: this.id, client_addr: socket.remoteAddress });
        socket.once('close', () => resolve());
        socket.destroy();
        return;
      }
      this.leaveStartup = leaveStartup;
      // One ssh2 server per connection: it only parses the host key and never listens itself.
      // Keepalives find a client that vanished without closing its TCP connection.
      const config: ServerConfig = { hostKeys: [deps.hostKey], ident: 'Portcullis', keepaliveInterval: 15_000, keepaliveCountMax: 4 };
      const server = new ssh2.Server(config, (connection) => this.serve(connection));
      const loginTimer = setTimeout(() => {
        if (!this.loggedIn) socket.destroy();
      }, deps.loginTimeoutMs);
      socket.once('close', () => {
        clearTimeout(loginTimer);
        leaveStartup();
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
    connection.on('session', (accept, reject) => {
      if (!this.context) return reject();
      // Each session channel can hold a decision, an approval wait and a channel on the host: bounded like sshd's MaxSessions.
      if (this.openSessions >= this.deps.maxSessionsPerConnection) {
        this.deps.log(`refused a session channel: ${this.openSessions} are open on this connection`, { session: this.id });
        return reject();
      }
      this.openSessions += 1;
      const session = accept();
      session.once('close', () => (this.openSessions -= 1));
      new SessionChannel(session, this.context, { envAllowList: this.deps.envAllowList, extensions: this.deps.extensions });
    });
    connection.on('tcpip', (accept, reject, info) => {
      if (!this.context) return reject();
      this.context.track(openLocalForward(this.context, accept, reject, info));
    });
    connection.on('request', (accept, reject, name, info) => {
      const forwards = this.remoteForwards;
      const bind = info as { bindAddr?: string; bindPort?: number };
      if (forwards && name === 'tcpip-forward') return void forwards.request(accept, reject, bind.bindAddr ?? '', bind.bindPort ?? 0);
      if (forwards && name === 'cancel-tcpip-forward') return void forwards.cancel(accept as (() => void) | undefined, reject, bind.bindAddr ?? '', bind.bindPort ?? 0);
      // Unix-socket forwarding (streamlocal) and anything else.
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
    this.leaveStartup();
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
      track: (work) => {
        const settled = work.then(() => undefined, () => undefined);
        this.inflight.add(settled);
        void settled.then(() => this.inflight.delete(settled));
      },
      upstream: () => this.upstream(),
      log: this.deps.log,
    };
    if (this.connection) this.remoteForwards = new RemoteForwards(this.context, this.connection);
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

  private end(reason: string): void {
    this.closed.abort();
    this.remoteForwards?.end();
    // What ran until the client left is on the record before the record ends (bounded: a host that never answers cannot hold it).
    const context = this.context;
    if (context) {
      const bound = new Promise<void>((resolve) => setTimeout(resolve, INFLIGHT_GRACE_MS).unref());
      void Promise.race([Promise.all([...this.inflight]), bound]).then(() => context.recorder.end(reason));
    }
    void this.upstreamClient?.then((client) => client.end(), () => undefined);
  }
}
