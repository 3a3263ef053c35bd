import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { clientSafeText, CommandGate, type ActionAuthorizer, type AuthorizeContext, type DecisionAnswer, type DecisionReuseCache, type ServedSession, type SessionRecorder, type StatementRecord } from '@portcullis/pep-core';
import type { CancelKeyRegistry, IssuedCancelKey } from '../cancel/cancel-key-registry.ts';
import { sendUpstreamCancel } from '../cancel/upstream-cancel.ts';
import { PgError, protocolViolation, SQLSTATE } from '../errors/pg-error.ts';
import { refusalError } from '../errors/refusal-error.ts';
import { performClientHandshake } from '../front-door/client-handshake.ts';
import { readClientStartup, type ClientStartup } from '../front-door/client-startup.ts';
import { readTokenPassword } from '../front-door/token-password.ts';
import {
  AUTH,
  encodeAuthenticationRequest,
  encodeBackendKeyData,
  encodeNegotiateProtocolVersion,
  encodeReadyForQuery,
} from '../protocol/backend-messages.ts';
import { encodeTerminate } from '../protocol/frontend-messages.ts';
import { UnreadableStartupPacketError, type MessageReader } from '../protocol/message-reader.ts';
import { ConnectionClosedError, ReadTimeoutError } from '../protocol/message-stream.ts';
import type { UpstreamConnection, UpstreamConnector } from '../upstream/upstream-connector.ts';
import { UpstreamConnectError } from '../upstream/upstream-connector.ts';
import { BackendRelay, LostTrackError } from './backend-relay.ts';
import { ClientChannel } from './client-channel.ts';
import { ExtendedProtocolHandler } from './extended-protocol-handler.ts';
import { FrontendDispatcher } from './frontend-dispatcher.ts';
import { FrontendPump } from './frontend-pump.ts';
import { PendingResponses } from './pending-responses.ts';
import type { ResultMaskerFactory } from './result-masker.ts';
import type { SessionIo } from './session-io.ts';
import { SimpleQueryHandler } from './simple-query-handler.ts';
import { PostgresProtocolAdapter, type StatementGate } from './postgres-protocol-adapter.ts';
import type { StatementRun } from './statement-run.ts';
import { checkParameterStatus, ParserSettingChangedError } from './parser-sensitive-settings.ts';
import { UpstreamChannel } from './upstream-channel.ts';

/** The error a statement is recorded with when its session ended before the server finished answering it. */
const UNFINISHED_STATEMENT = 'portcullis: the session ended before the server finished answering (outcome unknown)';

export interface SessionDeps {
  readonly authorizer: ActionAuthorizer;
  readonly upstream: UpstreamConnector;
  readonly cancelKeys: CancelKeyRegistry;
  /** Result masking for one session (its statements share what it remembers of masked values). */
  readonly maskers: () => ResultMaskerFactory;
  /** A recorder for one session, sending its events with the caller's token. */
  readonly recorder: (session: { id: string; client_addr?: string }, subjectToken: string) => SessionRecorder;
  /** This session's store of reusable allows, by statement shape; none: every text is asked about. */
  readonly decisionReuse?: () => DecisionReuseCache;
  readonly tls: SecureContext | undefined;
  readonly allowPlaintext: boolean;
  readonly limits: { readonly maxMessageBytes: number; readonly maxStartupBytes: number; readonly startupTimeoutMs: number };
  readonly log: (message: string) => void;
}

/** Kebab-case, as the session record's `reason`. */
export type SessionEndReason = 'client-closed' | 'upstream-closed' | 'refused' | 'protocol-violation' | 'lost-track' | 'parser-setting-changed' | 'pep-shutdown' | 'error';

/**
 * One client connection, as a story: start-up → the token as password → may this principal
 * open a session (a decision) → the upstream session with the PEP's credential → relay, every
 * statement decided before it reaches the server → the session's end on the record.
 */
export class ProxySession implements ServedSession {
  readonly id = randomUUID();
  private client: Duplex;
  private clientChannel: ClientChannel;
  private upstreamConnection: UpstreamConnection | undefined;
  private cancelKey: IssuedCancelKey | undefined;
  private recorder: SessionRecorder | undefined;
  private readonly ended = new AbortController();
  private statementAbort = new AbortController();
  private endReason: SessionEndReason | undefined;
  private finished!: () => void;
  private readonly done = new Promise<void>((resolve) => (this.finished = resolve));
  private cancelUpstreamOnClose = false;

  constructor(
    private readonly socket: Socket,
    private readonly deps: SessionDeps,
  ) {
    this.client = socket;
    this.clientChannel = new ClientChannel(socket);
  }

  get clientAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /** Runs the session to its end; never rejects. */
  async run(): Promise<void> {
    try {
      await this.open();
      if (!this.endReason) await this.done;
    } catch (error) {
      this.refuse(error);
    } finally {
      this.cleanUp();
    }
  }

  /** Ends the session from outside (the PEP shuts down): the client is told, then both sides close. */
  shutdown(): void {
    if (this.endReason) return;
    this.clientChannel.error(new PgError(SQLSTATE.adminShutdown, 'terminating connection due to administrator command', { severity: 'FATAL' }));
    this.end('pep-shutdown');
  }

  private async open(): Promise<void> {
    const handshake = await performClientHandshake(this.socket, {
      tls: this.deps.tls,
      allowPlaintext: this.deps.allowPlaintext,
      maxStartupBytes: this.deps.limits.maxStartupBytes,
      maxMessageBytes: this.deps.limits.maxMessageBytes,
      timeoutMs: this.deps.limits.startupTimeoutMs,
    });
    if (handshake.kind === 'cancel') {
      // The cancel connection closes once the cancel was passed on, as PostgreSQL's does once it
      // signalled the backend: a client that waits for the close knows it was acted on.
      await this.deps.cancelKeys.cancel(handshake.processId, handshake.secretKey);
      this.endReason = 'client-closed';
      return;
    }
    this.client = handshake.socket;
    this.clientChannel = new ClientChannel(handshake.socket);
    // From here on a client that goes away ends the session, also while a decision is pending.
    this.client.once('close', () => this.end('client-closed'));
    this.client.once('end', () => this.end('client-closed'));
    const startup = readClientStartup(handshake.parameters);
    if (handshake.minorVersion > 0 || handshake.protocolOptions.length > 0) {
      this.client.write(encodeNegotiateProtocolVersion(0, handshake.protocolOptions));
    }
    const token = await readTokenPassword(this.client, handshake.stream, this.deps.limits.startupTimeoutMs);
    const session = { id: this.id, ...(this.clientAddress ? { client_addr: this.clientAddress } : {}) };
    const context = (): AuthorizeContext => ({
      subjectToken: token,
      session,
      // Aborted by a CancelRequest (then replaced) and by the session's end.
      signal: this.statementAbort.signal,
      notify: (message, detail) => this.clientChannel.notice(message, detail),
    });

    const connectAnswer = await this.authorizeConnect(startup, context());
    this.upstreamConnection = await this.deps.upstream.connect(startup.forwarded);
    if (this.ended.signal.aborted) return;
    this.cancelKey = this.deps.cancelKeys.issue({ cancel: () => this.cancel() });
    this.recorder = this.deps.recorder(session, token);
    this.recorder.start();
    // A server whose session already reads SQL otherwise (a role or database default) is never relayed to.
    for (const parameter of this.upstreamConnection.parameterStatus) checkParameterStatus(parameter.subarray(5));
    this.greet(this.upstreamConnection);
    this.relay(handshake.stream.release(), this.upstreamConnection, context, connectAnswer.obligations.unmasked === true);
  }

  private async authorizeConnect(startup: ClientStartup, context: AuthorizeContext): Promise<DecisionAnswer> {
    const answer = await this.deps.authorizer.authorize(
      {
        type: 'connect',
        protocol: 'postgres',
        database: startup.database,
        user: startup.user,
        ...(startup.applicationName ? { application_name: startup.applicationName } : {}),
      },
      context,
    );
    if (answer.effect !== 'allow') {
      this.deps.log(`session ${this.id} from ${this.clientAddress ?? '?'}: connect refused (${answer.reasons.map((reason) => reason.code).join(', ')})`);
      // Only for a caller the PDP authenticated: a bad token is refused as such (28P01), whatever the name.
      if (answer.principal.authenticated && answer.reasons.some((reason) => reason.code === LOGIN_NAME_UNKNOWN)) throw unknownLoginName(startup.user, answer);
      throw refusalError(answer, 'connect');
    }
    this.deps.log(`session ${this.id} from ${this.clientAddress ?? '?'}: opened for ${answer.principal.sub ?? '?'} (decision ${answer.decision_id})`);
    return answer;
  }

  /** AuthenticationOk, the server's ParameterStatus, the PEP's own cancel key, ReadyForQuery. */
  private greet(upstream: UpstreamConnection): void {
    const key = this.cancelKey!;
    this.clientChannel.cork();
    this.clientChannel.write(encodeAuthenticationRequest(AUTH.ok));
    for (const parameter of upstream.parameterStatus) this.clientChannel.write(parameter);
    this.clientChannel.write(encodeBackendKeyData(key.processId, key.secretKey));
    this.clientChannel.write(encodeReadyForQuery(upstream.status));
    this.clientChannel.uncork();
  }

  private relay(clientReader: MessageReader, upstream: UpstreamConnection, context: () => AuthorizeContext, unmaskedAtConnect: boolean): void {
    const pending = new PendingResponses();
    const upstreamChannel = new UpstreamChannel(upstream.socket);
    const maskers = this.deps.maskers();
    maskers.sessionMessages?.decisionMade(unmaskedAtConnect);
    const gate: StatementGate = new CommandGate(new PostgresProtocolAdapter(maskers), this.deps.authorizer, context, {
      ...(this.recorder ? { recorder: this.recorder } : {}),
      ...(this.deps.decisionReuse ? { reuse: this.deps.decisionReuse() } : {}),
    });
    const io: SessionIo = { upstream: upstreamChannel, pending, gate, maskers };
    const extended = new ExtendedProtocolHandler(io);
    // Terminate after pipelined messages (Query, then Terminate, in one write): PostgreSQL answers
    // what came before it first, and so does the PEP: nothing more is read, the session ends once
    // every answer owed has been relayed.
    const terminate = (): void => {
      frontend.stop();
      void pending.settled(() => true).then(() => this.end('client-closed'));
    };
    const dispatcher = new FrontendDispatcher(io, new SimpleQueryHandler(io), extended, terminate);
    const backend = new BackendRelay(
      upstream.socket,
      upstream.reader,
      this.clientChannel,
      pending,
      {
        statementFinished: (run, status) => record(gate, run, status),
        readyForQuery: (status) => {
          if (status !== 'I') return;
          extended.transactionEnded();
          maskers.transactionEnded?.();
        },
        namesChanged: () => extended.forgetNames(),
        ...(maskers.sessionMessages ? { sessionMessages: maskers.sessionMessages } : {}),
      },
      (error) => this.fail(error),
    );
    const frontend = new FrontendPump(this.client, clientReader, (message) => dispatcher.handle(message), () => upstreamChannel.drained(), (error) => this.fail(error));

    upstream.socket.on('close', () => this.end('upstream-closed'));
    upstream.socket.on('error', (error) => this.deps.log(`session ${this.id}: upstream connection error (${(error as NodeJS.ErrnoException).code ?? error.name})`));
    this.ended.signal.addEventListener('abort', () => {
      upstreamChannel.close();
      frontend.stop();
      backend.stop();
      // Work the client abandoned would run on (a long query, a lock wait): cancel it first.
      this.cancelUpstreamOnClose = pending.size > 0;
      // A statement the server was given but had not finished answering still goes on the record:
      // it may have run (the client leaving after an ErrorResponse, before ReadyForQuery, is common).
      for (const owed of pending.abandon()) {
        if (owed.kind !== 'query' && owed.kind !== 'execute') continue;
        const completed = owed.run.error === undefined && owed.run.tags.length > 0;
        if (!completed) owed.run.error ??= UNFINISHED_STATEMENT;
        record(gate, owed.run, completed ? 'success' : 'failure');
      }
    });
    backend.start();
    frontend.start();
  }

  /** CancelRequest for this session's key: stop a pending decision or approval wait, and cancel upstream. */
  private async cancel(): Promise<void> {
    if (this.endReason) return;
    this.statementAbort.abort();
    this.statementAbort = new AbortController();
    const upstream = this.upstreamConnection;
    if (upstream) await sendUpstreamCancel(this.deps.upstream.address, upstream.backendKey);
  }

  private fail(error: unknown): void {
    if (this.endReason) return;
    if (error instanceof LostTrackError) {
      this.deps.log(`session ${this.id}: ${error.message}; closing the session`);
      this.clientChannel.error(new PgError(SQLSTATE.protocolViolation, 'portcullis: lost track of the server\'s answers; the session is closed', { severity: 'FATAL' }));
      this.end('lost-track');
      return;
    }
    if (error instanceof ParserSettingChangedError) {
      this.deps.log(`session ${this.id}: ${error.message}; closing the session`);
      this.clientChannel.error(parserSettingError(error));
      this.end('parser-setting-changed');
      return;
    }
    this.refuse(error);
  }

  /** Ends the session with the error the client should see (nothing, if the client is gone). */
  private refuse(error: unknown): void {
    if (this.endReason) return;
    if (error instanceof ConnectionClosedError) return this.end('client-closed');
    if (error instanceof UnreadableStartupPacketError) {
      // As PostgreSQL: logged, and the connection closed without an answer.
      this.deps.log(`session ${this.id} from ${this.clientAddress ?? '?'}: ${error.message}; closed`);
      return this.end('protocol-violation');
    }
    if (error instanceof ReadTimeoutError) {
      this.clientChannel.error(protocolViolation('portcullis: timed out waiting for the start-up to finish'));
      return this.end('protocol-violation');
    }
    if (error instanceof ParserSettingChangedError) return this.fail(error);
    if (error instanceof UpstreamConnectError) {
      this.deps.log(`session ${this.id}: ${error.message} (${error.reason})`);
      this.clientChannel.error(error);
      return this.end('upstream-closed');
    }
    if (error instanceof PgError) {
      // Errors that reach this level end the session, whatever severity they were made with.
      this.clientChannel.error(error.fatal ? error : new PgError(error.sqlState, error.message, { severity: 'FATAL', ...(error.detail ? { detail: error.detail } : {}) }));
      return this.end(error.sqlState === SQLSTATE.protocolViolation ? 'protocol-violation' : 'refused');
    }
    this.deps.log(`session ${this.id}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    this.clientChannel.error(new PgError(SQLSTATE.internalError, 'portcullis: internal error; the session is closed', { severity: 'FATAL' }));
    this.end('error');
  }

  private end(reason: SessionEndReason): void {
    if (this.endReason) return;
    this.endReason = reason;
    this.statementAbort.abort();
    this.ended.abort();
    this.finished();
  }

  /** Whatever happened: the upstream session is closed, the key forgotten, the end recorded. */
  private cleanUp(): void {
    this.endReason ??= 'error';
    if (!this.ended.signal.aborted) this.ended.abort();
    const upstream = this.upstreamConnection;
    if (upstream && !upstream.socket.destroyed) {
      if (this.cancelUpstreamOnClose) void sendUpstreamCancel(this.deps.upstream.address, upstream.backendKey);
      if (upstream.socket.writable) upstream.socket.end(encodeTerminate());
      // A server that does not close after Terminate is cut off.
      setTimeout(() => upstream.socket.destroy(), 1000).unref();
    }
    this.cancelKey?.release();
    this.recorder?.end(this.endReason);
    if (!this.client.destroyed) {
      if (this.client.writableEnded || this.endReason === 'client-closed') this.client.destroy();
      else this.client.end();
      setTimeout(() => this.client.destroy(), 1000).unref();
    }
    if (this.socket !== this.client && !this.socket.destroyed) setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}

// The policy's reason when the login name is neither the token's subject nor a role it may log in as.
const LOGIN_NAME_UNKNOWN = 'login-name-unknown';

/** As PostgreSQL refuses a role that does not exist: 28000, FATAL. */
function unknownLoginName(user: string, answer: DecisionAnswer): PgError {
  return new PgError(SQLSTATE.invalidAuthorization, `portcullis: role "${clientSafeText(user)}" is not one this token may log in as`, {
    severity: 'FATAL',
    detail: `reason: ${LOGIN_NAME_UNKNOWN}; decision ${answer.decision_id}`,
    hint: "Log in with the token's subject as the user name, or a database role policy maps your roles to.",
  });
}

function parserSettingError(error: ParserSettingChangedError): PgError {
  return new PgError(SQLSTATE.featureNotSupported, `portcullis: terminating connection because the server now reads SQL with ${error.setting} = ${error.value}`, {
    severity: 'FATAL',
    detail: `Statements are judged as PostgreSQL reads them with ${error.setting} = ${error.expected}; nothing more runs in this session. reason: parser-setting-changed`,
    hint: `Connect again, and leave ${error.setting} at ${error.expected} (role, database and function settings included).`,
  });
}

/** A statement the server answered (or the session ended on) goes on the session's record. */
function record(gate: StatementGate, run: StatementRun, status: 'success' | 'failure'): void {
  // An empty statement ran nothing under no decision: there is nothing to record.
  if (run.decision === undefined) return;
  // Built field by field rather than with spreads: this runs for every statement.
  const statement: Mutable<StatementRecord> = {
    text: run.text,
    decisionId: run.decision.id,
    status,
    durationMs: run.durationMs,
    rows: run.rows,
    bytes: run.bytes,
    maskedCells: run.maskedCells,
  };
  const kind = run.kind;
  if (kind) statement.kind = kind;
  if (run.decision.reused) statement.decisionReused = true;
  if (run.error !== undefined) statement.error = run.error;
  gate.record(statement);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
