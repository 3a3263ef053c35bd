import type { Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { decodeNoticeFields } from '../protocol/backend-messages.ts';
import { SSL_REQUEST_CODE } from '../protocol/frontend-messages.ts';
import { MessageBuilder } from '../protocol/message-builder.ts';
import { UpstreamConnectError } from './upstream-connect-error.ts';
import { upstreamTlsFailure } from './upstream-tls-failure.ts';
import type { UpstreamTls } from './upstream-tls.ts';

const SSL_REQUEST = new MessageBuilder().int32(SSL_REQUEST_CODE).build();
const TLS_ACCEPTED = 0x53; // 'S'
const TLS_REFUSED = 0x4e; // 'N'
const ERROR_RESPONSE = 0x45; // 'E'

/**
 * Turns a fresh connection to the server into a TLS one the way PostgreSQL expects: SSLRequest,
 * a one-byte answer, then the handshake on the same socket. Anything but a clean 'S' fails:
 * the PEP never falls back to plaintext once TLS is configured.
 */
export async function startUpstreamTls(socket: Socket, tls: UpstreamTls, host: string, timeoutMs: number): Promise<TLSSocket> {
  const deadline = Date.now() + timeoutMs;
  await askForTls(socket, timeoutMs);
  return handshake(socket, currentOptions(tls, host), deadline - Date.now());
}

function currentOptions(tls: UpstreamTls, host: string): ConnectionOptions {
  try {
    return tls.connectOptions(host);
  } catch (error) {
    // A TLS file that went missing or unreadable since start: the log says which.
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).name;
    throw new UpstreamConnectError('the PEP cannot read its TLS files for the database', `TLS files: ${code}: ${(error as Error).message}`);
  }
}

function askForTls(socket: Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new UpstreamConnectError('the database did not answer the TLS request', 'no answer to SSLRequest in time')), timeoutMs);
    const onData = (chunk: Buffer): void => {
      // Whatever follows must reach the TLS layer, not this listener.
      socket.pause();
      finish(answerProblem(chunk));
    };
    const onClose = (): void => finish(new UpstreamConnectError('the database closed the connection when asked for TLS', 'closed before answering SSLRequest'));
    const onError = (error: Error): void =>
      finish(new UpstreamConnectError('the database closed the connection when asked for TLS', `SSLRequest: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
    const finish = (problem: UpstreamConnectError | undefined): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onClose);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (problem) reject(problem);
      else resolve();
    };
    socket.on('data', onData);
    socket.on('end', onClose);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.write(SSL_REQUEST);
    socket.resume();
  });
}

/** Undefined for a clean 'S'; otherwise why the answer is not one to go on with. */
function answerProblem(chunk: Buffer): UpstreamConnectError | undefined {
  const answer = chunk[0];
  if (answer === TLS_ACCEPTED) {
    if (chunk.length === 1) return undefined;
    // Bytes sent in the clear before the handshake would later read as if they came over TLS
    // (CVE-2021-23214): a man in the middle's injection, never a real server's answer.
    return new UpstreamConnectError(
      'the database sent unexpected data before the TLS handshake; the PEP refused the connection',
      `${chunk.length - 1} byte(s) arrived with the 'S' answer to SSLRequest`,
    );
  }
  if (answer === TLS_REFUSED) {
    return new UpstreamConnectError('the database does not accept TLS, which the PEP requires for its connection', "the server answered 'N' to SSLRequest (ssl = off?)");
  }
  if (answer === ERROR_RESPONSE) {
    // Unauthenticated plaintext: for the log only, never shown to the client.
    return new UpstreamConnectError('the database refused the TLS request', `error answer to SSLRequest: ${serverErrorText(chunk)}`);
  }
  return new UpstreamConnectError('the database answered the TLS request with an unexpected byte', `answer byte 0x${(answer ?? 0).toString(16).padStart(2, '0')} to SSLRequest`);
}

function serverErrorText(chunk: Buffer): string {
  try {
    const length = chunk.readInt32BE(1);
    const fields = decodeNoticeFields(chunk.subarray(5, 1 + length));
    return (fields.get('M') ?? 'no message').slice(0, 200);
  } catch {
    return 'unreadable';
  }
}

function handshake(socket: Socket, options: ConnectionOptions, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = connectTls({ ...options, socket });
    const timer = setTimeout(() => fail(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })), Math.max(timeoutMs, 0));
    const fail = (error: Error): void => {
      clearTimeout(timer);
      secure.destroy();
      reject(upstreamTlsFailure(error));
    };
    secure.once('error', fail);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.off('error', fail);
      // Errors are always followed by 'close', which the session handles; unheard, they would throw.
      secure.on('error', () => undefined);
      resolve(secure);
    });
  });
}
