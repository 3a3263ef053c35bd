import { PgError, protocolViolation, SQLSTATE } from '../errors/pg-error.ts';
import { CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE } from './frontend-messages.ts';
import { MessageBodyReader } from './message-body-reader.ts';

export type StartupPacket =
  | { readonly kind: 'ssl-request' }
  | { readonly kind: 'gssenc-request' }
  | { readonly kind: 'cancel'; readonly processId: number; readonly secretKey: Buffer }
  | {
      readonly kind: 'startup';
      /** The minor version asked for; above 0 the PEP answers NegotiateProtocolVersion. */
      readonly minorVersion: number;
      /** Start-up parameters (user, database, application_name …), protocol options excluded. */
      readonly parameters: ReadonlyMap<string, string>;
      /** `_pq_.` protocol extension options the client asked for. */
      readonly protocolOptions: readonly string[];
    };

/** Reads one packet of the start-up phase (length included). */
export function decodeStartupPacket(packet: Buffer): StartupPacket {
  const reader = new MessageBodyReader(packet.subarray(4), 'start-up packet');
  const code = reader.int32();
  switch (code) {
    case SSL_REQUEST_CODE:
      reader.end();
      return { kind: 'ssl-request' };
    case GSSENC_REQUEST_CODE:
      reader.end();
      return { kind: 'gssenc-request' };
    case CANCEL_REQUEST_CODE: {
      const processId = reader.int32();
      const secretKey = Buffer.from(reader.rest());
      if (secretKey.length < 4 || secretKey.length > 256) throw protocolViolation('CancelRequest: invalid secret key length');
      return { kind: 'cancel', processId, secretKey };
    }
  }
  const major = code >>> 16;
  const minor = code & 0xffff;
  if (major !== 3) {
    throw new PgError(SQLSTATE.featureNotSupported, `unsupported frontend protocol ${major}.${minor}: this PEP speaks 3.0`, { severity: 'FATAL' });
  }
  const parameters = new Map<string, string>();
  const protocolOptions: string[] = [];
  for (;;) {
    const name = reader.cstring();
    if (name === '') break;
    const value = reader.cstring();
    if (name.startsWith('_pq_.')) protocolOptions.push(name);
    else parameters.set(name, value);
  }
  reader.end();
  return { kind: 'startup', minorVersion: minor, parameters, protocolOptions };
}
