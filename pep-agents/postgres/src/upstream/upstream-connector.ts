import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  AUTH,
  BACKEND,
  decodeAuthentication,
  decodeBackendKeyData,
  decodeNoticeFields,
  decodeReadyForQuery,
  type TransactionStatus,
} from '../protocol/backend-messages.ts';
import { encodeSaslInitialResponse, encodeSaslResponse, encodeStartupMessage, encodeTerminate } from '../protocol/frontend-messages.ts';
import { MessageReader } from '../protocol/message-reader.ts';
import { MessageStream } from '../protocol/message-stream.ts';
import { chooseScramMechanism } from './scram-mechanism-choice.ts';
import { deriveSaltedPassword, ScramSha256Client, type SaltedPasswordDeriver } from './scram-sha-256-client.ts';
import { UpstreamConnectError } from './upstream-connect-error.ts';
import { openUpstreamSocket, type UpstreamAddress } from './upstream-socket.ts';
import { UpstreamTls } from './upstream-tls.ts';
import type { UpstreamTlsSettings } from './upstream-tls-settings.ts';

// Where it always was, for the code that catches it.
export { UpstreamConnectError } from './upstream-connect-error.ts';

export interface UpstreamConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Read for every connection, so a rotated password file takes effect without a restart. */
  readonly password: () => string;
  /** TCP connect, TLS and authentication, until the server is ready for queries. */
  readonly connectTimeoutMs: number;
  readonly maxMessageBytes: number;
  /** TLS on the link to the server; the same for sessions, cancel requests and the catalog pool. */
  readonly tls: UpstreamTlsSettings;
}

/** An authenticated upstream session, ready for queries. */
export interface UpstreamConnection {
  readonly socket: Socket;
  /** Holds whatever the server sent after its first ReadyForQuery. */
  readonly reader: MessageReader;
  /** The server's ParameterStatus messages, as received, to relay to the client. */
  readonly parameterStatus: readonly Buffer[];
  readonly backendKey: { readonly processId: number; readonly secretKey: Buffer };
  readonly status: TransactionStatus;
  /** Whether SCRAM was bound to the TLS channel (SCRAM-SHA-256-PLUS). */
  readonly channelBound: boolean;
}

/**
 * Opens sessions on the real PostgreSQL server with the PEP's own credential, over TLS when
 * configured. Only SCRAM-SHA-256 (bound to the TLS channel when the server offers -PLUS) or a
 * server that asks for nothing is accepted: the PEP never sends the password in the clear or as
 * an MD5 hash a listener could replay.
 */
export class UpstreamConnector {
  private readonly saltedPasswords = new Map<string, Buffer>();
  /** Also what cancel requests connect with, so they are as protected as the sessions. */
  readonly address: UpstreamAddress;

  constructor(private readonly config: UpstreamConfig) {
    this.address = { host: config.host, port: config.port, tls: new UpstreamTls(config.tls) };
  }

  /** `parameters`: start-up parameters beyond user and database (application_name …). */
  async connect(parameters: Readonly<Record<string, string>>): Promise<UpstreamConnection> {
    const deadline = Date.now() + this.config.connectTimeoutMs;
    const socket = await openUpstreamSocket(this.address, this.config.connectTimeoutMs);
    const stream = new MessageStream(socket, new MessageReader(this.config.maxMessageBytes));
    try {
      socket.write(encodeStartupMessage({ ...parameters, user: this.config.user, database: this.config.database }));
      const parameterStatus: Buffer[] = [];
      let backendKey: UpstreamConnection['backendKey'] | undefined;
      let scram: ScramSha256Client | undefined;
      for (;;) {
        const message = await stream.nextMessage(this.config.maxMessageBytes, deadline - Date.now());
        switch (message.type) {
          case BACKEND.authentication:
            scram = await this.authenticate(socket, decodeAuthentication(message.body), scram);
            break;
          case BACKEND.parameterStatus:
            parameterStatus.push(message.raw);
            break;
          case BACKEND.backendKeyData:
            backendKey = decodeBackendKeyData(message.body);
            break;
          case BACKEND.noticeResponse:
          case BACKEND.negotiateProtocolVersion:
            break;
          case BACKEND.errorResponse: {
            const fields = decodeNoticeFields(message.body);
            throw new UpstreamConnectError(
              `the database refused the PEP's session: ${fields.get('M') ?? 'no reason given'}`,
              `server error ${fields.get('C') ?? '?'}: ${fields.get('M') ?? ''}`,
            );
          }
          case BACKEND.readyForQuery: {
            if (!backendKey) throw new UpstreamConnectError('the database sent no cancel key', 'no BackendKeyData before ReadyForQuery');
            const status = decodeReadyForQuery(message.body);
            return { socket, reader: stream.release(), parameterStatus, backendKey, status, channelBound: scram?.channelBound ?? false };
          }
          default:
            throw new UpstreamConnectError('the database answered the start-up with an unexpected message', `message type ${message.type}`);
        }
      }
    } catch (error) {
      stream.release();
      socket.destroy();
      if (error instanceof UpstreamConnectError) throw error;
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new UpstreamConnectError('the PEP could not open a session on the database', reason);
    }
  }

  private async authenticate(
    socket: Socket,
    request: { code: number; data: Buffer },
    scram: ScramSha256Client | undefined,
  ): Promise<ScramSha256Client | undefined> {
    switch (request.code) {
      case AUTH.ok:
        // A server that skips the SCRAM final step has not proved it is the real one.
        if (scram && !scram.verified) throw new UpstreamConnectError('the database did not complete SCRAM', 'AuthenticationOk before SASLFinal');
        return scram;
      case AUTH.sasl: {
        const mechanisms = request.data.toString('utf8').split('\0').filter(Boolean);
        const choice = chooseScramMechanism(mechanisms, socket);
        if (!choice) {
          throw new UpstreamConnectError('the database offers no SASL mechanism the PEP supports', `mechanisms: ${mechanisms.join(', ')}`);
        }
        const client = new ScramSha256Client(this.config.password(), this.cachedDerive, undefined, undefined, choice.channelBinding);
        socket.write(encodeSaslInitialResponse(choice.mechanism, client.clientFirstMessage()));
        return client;
      }
      case AUTH.saslContinue:
        if (!scram) throw new UpstreamConnectError('the database broke the SCRAM exchange', 'SASLContinue before SASL');
        socket.write(encodeSaslResponse(await scram.clientFinalMessage(request.data)));
        return scram;
      case AUTH.saslFinal:
        if (!scram) throw new UpstreamConnectError('the database broke the SCRAM exchange', 'SASLFinal before SASL');
        scram.verifyServerFinal(request.data);
        return scram;
      default:
        socket.write(encodeTerminate());
        throw new UpstreamConnectError(
          'the database asked for a password method the PEP refuses (only SCRAM-SHA-256 is used)',
          `authentication request ${request.code}`,
        );
    }
  }

  // PBKDF2 costs milliseconds of CPU per log-in; the salt and count only change with the password.
  private readonly cachedDerive: SaltedPasswordDeriver = async (password, salt, iterations) => {
    const key = `${iterations}:${salt.toString('base64')}:${createHash('sha256').update(password).digest('base64')}`;
    const cached = this.saltedPasswords.get(key);
    if (cached) return cached;
    const derived = await deriveSaltedPassword(password, salt, iterations);
    if (this.saltedPasswords.size >= 16) this.saltedPasswords.clear();
    this.saltedPasswords.set(key, derived);
    return derived;
  };
}
