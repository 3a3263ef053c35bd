import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { PgError, protocolViolation, SQLSTATE } from '../errors/pg-error.ts';
import { MessageReader } from '../protocol/message-reader.ts';
import { MessageStream } from '../protocol/message-stream.ts';
import { decodeStartupPacket } from '../protocol/startup-packet.ts';
import { upgradeToTls } from './tls-upgrade.ts';

export interface HandshakeOptions {
  /** Present when the PEP has a certificate: SSLRequest is then answered 'S'. */
  readonly tls: SecureContext | undefined;
  /** Accept unencrypted sessions from clients that are not on this host. */
  readonly allowPlaintext: boolean;
  readonly maxStartupBytes: number;
  readonly maxMessageBytes: number;
  readonly timeoutMs: number;
}

export type HandshakeResult =
  | { readonly kind: 'cancel'; readonly processId: number; readonly secretKey: Buffer }
  | {
      readonly kind: 'startup';
      /** The raw socket, or the TLS socket over it. */
      readonly socket: Duplex;
      /** Reads the rest of the session's messages (authentication comes next). */
      readonly stream: MessageStream;
      readonly encrypted: boolean;
      readonly minorVersion: number;
      readonly parameters: ReadonlyMap<string, string>;
      readonly protocolOptions: readonly string[];
    };

const NO = Buffer.from('N');
const YES = Buffer.from('S');

/**
 * The start-up phase, up to the StartupMessage: SSLRequest (TLS when configured, 'N' otherwise),
 * GSSENCRequest ('N': not offered), CancelRequest (handed back to the caller). A client that is
 * not on this host must come over TLS unless plaintext is allowed, since its password is a token.
 */
export async function performClientHandshake(socket: Socket, options: HandshakeOptions): Promise<HandshakeResult> {
  let transport: Duplex = socket;
  let stream = new MessageStream(socket, new MessageReader(options.maxMessageBytes));
  let encrypted = false;
  let sslAsked = false;
  let gssAsked = false;
  for (;;) {
    const packet = decodeStartupPacket(await stream.nextStartupPacket(options.maxStartupBytes, options.timeoutMs));
    switch (packet.kind) {
      case 'ssl-request': {
        if (sslAsked || encrypted) throw protocolViolation('SSLRequest sent twice');
        sslAsked = true;
        if (!options.tls) {
          transport.write(NO);
          continue;
        }
        // Bytes sent after SSLRequest but before the handshake would be read as if encrypted.
        if (stream.reader.buffered > 0) throw protocolViolation('received unencrypted data after SSL request');
        stream.release();
        socket.write(YES);
        transport = await upgradeToTls(socket, options.tls, options.timeoutMs);
        stream = new MessageStream(transport, new MessageReader(options.maxMessageBytes));
        encrypted = true;
        continue;
      }
      case 'gssenc-request':
        if (gssAsked || encrypted) throw protocolViolation('GSSENCRequest sent twice');
        gssAsked = true;
        transport.write(NO);
        continue;
      case 'cancel':
        stream.release();
        return { kind: 'cancel', processId: packet.processId, secretKey: packet.secretKey };
      case 'startup':
        if (!encrypted && !options.allowPlaintext && !isLoopback(socket.remoteAddress)) {
          throw new PgError(SQLSTATE.invalidAuthorization, 'portcullis: connections from other hosts must use TLS (sslmode=require)', {
            severity: 'FATAL',
            detail: 'The password is an access token and must not cross the network in the clear.',
          });
        }
        return {
          kind: 'startup',
          socket: transport,
          stream,
          encrypted,
          minorVersion: packet.minorVersion,
          parameters: packet.parameters,
          protocolOptions: packet.protocolOptions,
        };
    }
  }
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}
