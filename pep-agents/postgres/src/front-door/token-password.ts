import type { Duplex } from 'node:stream';
import { PgError, protocolViolation, SQLSTATE } from '../errors/pg-error.ts';
import { AUTH, encodeAuthenticationRequest } from '../protocol/backend-messages.ts';
import { decodePassword, FRONTEND } from '../protocol/frontend-messages.ts';
import type { MessageStream } from '../protocol/message-stream.ts';

// A JWT with many claims is a few KiB; PostgreSQL's own bound on an authentication packet.
const MAX_PASSWORD_MESSAGE_BYTES = 65536;

/** Asks for a cleartext password and returns it: the caller's OIDC token. */
export async function readTokenPassword(socket: Duplex, stream: MessageStream, timeoutMs: number): Promise<string> {
  socket.write(encodeAuthenticationRequest(AUTH.cleartextPassword));
  const message = await stream.nextMessage(MAX_PASSWORD_MESSAGE_BYTES, timeoutMs);
  if (message.type !== FRONTEND.password) throw protocolViolation(`expected a password response, got message type ${message.type}`);
  const token = decodePassword(message.body).trim();
  if (token === '') {
    throw new PgError(SQLSTATE.invalidAuthorization, 'portcullis: a token is required as the password', {
      severity: 'FATAL',
      hint: 'Give your OIDC access token as the password (PGPASSWORD).',
    });
  }
  return token;
}
