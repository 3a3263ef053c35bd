import { protocolViolation } from '../errors/pg-error.ts';
import { MessageBodyReader } from './message-body-reader.ts';
import { MessageBuilder } from './message-builder.ts';

/** Type bytes of the messages a client sends after start-up. */
export const FRONTEND = {
  query: 0x51, // Q
  parse: 0x50, // P
  bind: 0x42, // B
  describe: 0x44, // D
  execute: 0x45, // E
  close: 0x43, // C
  sync: 0x53, // S
  flush: 0x48, // H
  terminate: 0x58, // X
  copyData: 0x64, // d
  copyDone: 0x63, // c
  copyFail: 0x66, // f
  functionCall: 0x46, // F
  password: 0x70, // p (also SASL responses)
} as const;

export interface ParseMessage {
  readonly name: string;
  readonly sql: string;
  readonly parameterTypes: readonly number[];
}

export interface BindMessage {
  readonly portal: string;
  readonly statement: string;
  readonly parameterCount: number;
  /** As sent: none (all text), one for every parameter, or one per parameter. */
  readonly parameterFormats: readonly number[];
  /** Each parameter's bytes (views into the message), null for SQL NULL. */
  readonly parameters: readonly (Buffer | null)[];
  /** As sent: none (all text), one for every column, or one per column. */
  readonly resultFormats: readonly number[];
}

export interface DescribeOrCloseMessage {
  /** `S` a prepared statement, `P` a portal. */
  readonly target: 'S' | 'P';
  readonly name: string;
}

export interface ExecuteMessage {
  readonly portal: string;
  /** 0 = no limit; otherwise the portal is suspended after this many rows. */
  readonly maxRows: number;
}

export function decodeQuery(body: Buffer): string {
  const reader = new MessageBodyReader(body, 'Query');
  const sql = reader.cstring();
  reader.end();
  return sql;
}

export function decodeParse(body: Buffer): ParseMessage {
  const reader = new MessageBodyReader(body, 'Parse');
  const name = reader.cstring();
  const sql = reader.cstring();
  const count = reader.int16();
  if (count < 0) throw protocolViolation('Parse: negative parameter count');
  const parameterTypes: number[] = [];
  // OIDs are unsigned: read as such, so a large one is not taken for a small (or negative) one.
  for (let i = 0; i < count; i++) parameterTypes.push(reader.int32() >>> 0);
  reader.end();
  return { name, sql, parameterTypes };
}

export function decodeBind(body: Buffer): BindMessage {
  const reader = new MessageBodyReader(body, 'Bind');
  const portal = reader.cstring();
  const statement = reader.cstring();
  const formatCount = reader.int16();
  if (formatCount < 0) throw protocolViolation('Bind: negative format count');
  const parameterFormats: number[] = [];
  for (let i = 0; i < formatCount; i++) parameterFormats.push(reader.int16());
  const parameterCount = reader.int16();
  if (parameterCount < 0) throw protocolViolation('Bind: negative parameter count');
  const parameters: (Buffer | null)[] = [];
  for (let i = 0; i < parameterCount; i++) {
    const length = reader.int32();
    if (length < -1) throw protocolViolation('Bind: invalid parameter length');
    parameters.push(length === -1 ? null : length === 0 ? Buffer.alloc(0) : reader.bytes(length));
  }
  const resultCount = reader.int16();
  if (resultCount < 0) throw protocolViolation('Bind: negative result format count');
  const resultFormats: number[] = [];
  for (let i = 0; i < resultCount; i++) resultFormats.push(reader.int16());
  reader.end();
  return { portal, statement, parameterCount, parameterFormats, parameters, resultFormats };
}

/** Bind's portal name alone (its first field), for a look before the whole message is decoded. */
export function bindPortalName(body: Buffer): string {
  return new MessageBodyReader(body, 'Bind').cstring();
}

export function decodeDescribeOrClose(body: Buffer, what: 'Describe' | 'Close'): DescribeOrCloseMessage {
  const reader = new MessageBodyReader(body, what);
  const target = reader.byte();
  if (target !== 0x53 && target !== 0x50) throw protocolViolation(`${what}: invalid target type`);
  const name = reader.cstring();
  reader.end();
  return { target: target === 0x53 ? 'S' : 'P', name };
}

export function decodeExecute(body: Buffer): ExecuteMessage {
  const reader = new MessageBodyReader(body, 'Execute');
  const portal = reader.cstring();
  const maxRows = reader.int32();
  reader.end();
  return { portal, maxRows };
}

/** The PasswordMessage of cleartext authentication: one NUL-terminated string. */
export function decodePassword(body: Buffer): string {
  const reader = new MessageBodyReader(body, 'PasswordMessage');
  const password = reader.cstring();
  reader.end();
  return password;
}

// --- what the PEP itself sends to the upstream server ---

export const PROTOCOL_3_0 = 196608;

export function encodeStartupMessage(parameters: Readonly<Record<string, string>>): Buffer {
  const builder = new MessageBuilder().int32(PROTOCOL_3_0);
  for (const [name, value] of Object.entries(parameters)) builder.cstring(name).cstring(value);
  return builder.byte(0).build();
}

export function encodeCancelRequest(processId: number, secretKey: Buffer): Buffer {
  return new MessageBuilder().int32(CANCEL_REQUEST_CODE).int32(processId).bytes(secretKey).build();
}

export function encodeSaslInitialResponse(mechanism: string, data: Buffer): Buffer {
  return new MessageBuilder().cstring(mechanism).int32(data.length).bytes(data).build('p');
}

export function encodeSaslResponse(data: Buffer): Buffer {
  return new MessageBuilder().bytes(data).build('p');
}

export function encodeQuery(sql: string): Buffer {
  return new MessageBuilder().cstring(sql).build('Q');
}

export function encodeParse(name: string, sql: string): Buffer {
  return new MessageBuilder().cstring(name).cstring(sql).int16(0).build('P');
}

export function encodeSync(): Buffer {
  return new MessageBuilder().build('S');
}

export function encodeTerminate(): Buffer {
  return new MessageBuilder().build('X');
}

export const CANCEL_REQUEST_CODE = 80877102;
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
