import { protocolViolation, type PgError } from '../errors/pg-error.ts';
import { MessageBodyReader } from './message-body-reader.ts';
import { MessageBuilder } from './message-builder.ts';

/** Type bytes of the messages a server sends. */
export const BACKEND = {
  authentication: 0x52, // R
  backendKeyData: 0x4b, // K
  readyForQuery: 0x5a, // Z
  errorResponse: 0x45, // E
  noticeResponse: 0x4e, // N
  parameterStatus: 0x53, // S
  rowDescription: 0x54, // T
  dataRow: 0x44, // D
  commandComplete: 0x43, // C
  emptyQueryResponse: 0x49, // I
  portalSuspended: 0x73, // s
  noData: 0x6e, // n
  parameterDescription: 0x74, // t
  parseComplete: 0x31, // 1
  bindComplete: 0x32, // 2
  closeComplete: 0x33, // 3
  copyInResponse: 0x47, // G
  copyOutResponse: 0x48, // H
  copyBothResponse: 0x57, // W
  copyData: 0x64, // d
  copyDone: 0x63, // c
  notificationResponse: 0x41, // A
  functionCallResponse: 0x56, // V
  negotiateProtocolVersion: 0x76, // v
} as const;

export const AUTH = {
  ok: 0,
  cleartextPassword: 3,
  md5Password: 5,
  sasl: 10,
  saslContinue: 11,
  saslFinal: 12,
} as const;

/** I idle, T in a transaction block, E in a failed transaction block. */
export type TransactionStatus = 'I' | 'T' | 'E';

// --- what the PEP sends to its clients ---

export function encodeAuthenticationRequest(code: number): Buffer {
  return new MessageBuilder().int32(code).build('R');
}

export function encodeParameterStatus(name: string, value: string): Buffer {
  return new MessageBuilder().cstring(name).cstring(value).build('S');
}

export function encodeBackendKeyData(processId: number, secretKey: Buffer): Buffer {
  return new MessageBuilder().int32(processId).bytes(secretKey).build('K');
}

export function encodeReadyForQuery(status: TransactionStatus): Buffer {
  return new MessageBuilder().byte(status.charCodeAt(0)).build('Z');
}

export function encodeErrorResponse(error: PgError): Buffer {
  return encodeFields('E', error.severity, error.sqlState, error.message, error.detail, error.hint, error.position);
}

export function encodeNotice(message: string, detail?: string, hint?: string): Buffer {
  return encodeFields('N', 'NOTICE', '00000', message, detail, hint);
}

/** Protocol 3.x with a newer minor than we speak: say which minor and which `_pq_.` options we ignore. */
export function encodeNegotiateProtocolVersion(newestMinor: number, unrecognizedOptions: readonly string[]): Buffer {
  const builder = new MessageBuilder().int32(newestMinor).int32(unrecognizedOptions.length);
  for (const option of unrecognizedOptions) builder.cstring(option);
  return builder.build('v');
}

function encodeFields(type: 'E' | 'N', severity: string, code: string, message: string, detail?: string, hint?: string, position?: number): Buffer {
  const builder = new MessageBuilder().byte(0x53).cstring(severity).byte(0x56).cstring(severity).byte(0x43).cstring(code).byte(0x4d).cstring(message);
  if (detail) builder.byte(0x44).cstring(detail);
  if (hint) builder.byte(0x48).cstring(hint);
  if (position !== undefined) builder.byte(0x50).cstring(String(position));
  return builder.byte(0).build(type);
}

// --- what the PEP reads from the upstream server ---

export interface AuthenticationMessage {
  readonly code: number;
  /** What follows the code: SASL mechanism list, SASL data, MD5 salt. */
  readonly data: Buffer;
}

export function decodeAuthentication(body: Buffer): AuthenticationMessage {
  const reader = new MessageBodyReader(body, 'Authentication');
  return { code: reader.int32(), data: reader.rest() };
}

export function decodeBackendKeyData(body: Buffer): { processId: number; secretKey: Buffer } {
  const reader = new MessageBodyReader(body, 'BackendKeyData');
  const processId = reader.int32();
  const secretKey = Buffer.from(reader.rest());
  if (secretKey.length < 4 || secretKey.length > 256) throw protocolViolation('BackendKeyData: invalid secret key length');
  return { processId, secretKey };
}

export function decodeReadyForQuery(body: Buffer): TransactionStatus {
  const status = String.fromCharCode(body[0] ?? 0);
  if (body.length !== 1 || (status !== 'I' && status !== 'T' && status !== 'E')) throw protocolViolation('ReadyForQuery: invalid status');
  return status;
}

export function decodeCommandTag(body: Buffer): string {
  const reader = new MessageBodyReader(body, 'CommandComplete');
  return reader.cstring();
}

export function decodeParameterStatus(body: Buffer): { name: string; value: string } {
  const reader = new MessageBodyReader(body, 'ParameterStatus');
  return { name: reader.cstring(), value: reader.cstring() };
}

export function decodeNotification(body: Buffer): { processId: number; channel: string; payload: string } {
  const reader = new MessageBodyReader(body, 'NotificationResponse');
  return { processId: reader.int32(), channel: reader.cstring(), payload: reader.cstring() };
}

/** The fields of an ErrorResponse or NoticeResponse, keyed by their one-letter codes. */
export function decodeNoticeFields(body: Buffer): Map<string, string> {
  const reader = new MessageBodyReader(body, 'ErrorResponse');
  const fields = new Map<string, string>();
  for (;;) {
    const code = reader.byte();
    if (code === 0) return fields;
    fields.set(String.fromCharCode(code), reader.cstring());
  }
}
