// A client that speaks the wire protocol byte by byte, for what drivers never send: pipelines
// with a refusal in the middle, garbage, truncated and oversized messages, abrupt disconnects.
import { connect, type Socket } from 'node:net';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { MessageReader, type FramedMessage } from '@portcullis/pep-postgres/testing';
import { ConnectionClosedError, MessageStream } from '@portcullis/pep-postgres/testing';
import { decodeNoticeFields } from '@portcullis/pep-postgres/testing';

export class RawClient {
  private readonly stream: MessageStream;
  backendKey: { processId: number; secretKey: Buffer } | undefined;

  private constructor(readonly socket: Socket) {
    this.stream = new MessageStream(socket, new MessageReader(64 * 1024 * 1024));
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => undefined);
    return new RawClient(socket);
  }

  /** Connects, sends the start-up packet and the token, and reads up to the first ReadyForQuery. */
  static async login(port: number, token: string): Promise<RawClient> {
    const client = await RawClient.connect(port);
    client.send(startupPacket({ user: loginNameOf(token), database: 'analytics' }));
    const auth = await client.next();
    if (auth.type !== 0x52) throw new Error(`expected an authentication request, got ${describe(auth)}`);
    client.send(new MessageBuilder().cstring(token).build('p'));
    for (const message of await client.untilReady()) {
      if (message.type === 0x4b) client.backendKey = { processId: message.body.readInt32BE(0), secretKey: Buffer.from(message.body.subarray(4)) };
    }
    return client;
  }

  send(bytes: Buffer | Buffer[]): void {
    this.socket.write(Array.isArray(bytes) ? Buffer.concat(bytes) : bytes);
  }

  next(timeoutMs = 15_000): Promise<FramedMessage> {
    return this.stream.nextMessage(64 * 1024 * 1024, timeoutMs);
  }

  /** Messages up to and including the next ReadyForQuery. */
  async untilReady(timeoutMs = 15_000): Promise<FramedMessage[]> {
    const messages: FramedMessage[] = [];
    for (;;) {
      const message = await this.next(timeoutMs);
      messages.push(message);
      if (message.type === 0x45 && decodeNoticeFields(message.body).get('S') === 'FATAL') return messages;
      if (message.type === 0x5a) return messages;
    }
  }

  /** Resolves once the PEP closes the connection; with the messages it sent before. */
  async closed(timeoutMs = 15_000): Promise<FramedMessage[]> {
    const messages: FramedMessage[] = [];
    try {
      for (;;) messages.push(await this.next(timeoutMs));
    } catch (error) {
      if (error instanceof ConnectionClosedError) return messages;
      throw error;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * The user name a caller logs in with: its token's subject (policy refuses any name that is
 * neither the subject nor a database role its roles map to).
 */
export function loginNameOf(token: string): string {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
    if (typeof payload.sub === 'string') return payload.sub;
  } catch {
    // Not a token (tests of bad passwords): any name, the login is refused for the password.
  }
  return 'agent';
}

export function startupPacket(parameters: Record<string, string>): Buffer {
  const builder = new MessageBuilder().int32(196608);
  for (const [name, value] of Object.entries(parameters)) builder.cstring(name).cstring(value);
  return builder.byte(0).build();
}

export const msg = {
  query: (sql: string) => new MessageBuilder().cstring(sql).build('Q'),
  parse: (name: string, sql: string) => new MessageBuilder().cstring(name).cstring(sql).int16(0).build('P'),
  bind: (portal: string, statement: string, parameters: string[] = []) => {
    const builder = new MessageBuilder().cstring(portal).cstring(statement).int16(0).int16(parameters.length);
    for (const parameter of parameters) {
      const bytes = Buffer.from(parameter);
      builder.int32(bytes.length).bytes(bytes);
    }
    return builder.int16(0).build('B');
  },
  describePortal: (portal: string) => new MessageBuilder().byte(0x50).cstring(portal).build('D'),
  execute: (portal: string, maxRows = 0) => new MessageBuilder().cstring(portal).int32(maxRows).build('E'),
  sync: () => new MessageBuilder().build('S'),
  terminate: () => new MessageBuilder().build('X'),
  functionCall: (oid: number) => new MessageBuilder().int32(oid).int16(0).int16(0).int16(0).build('F'),
};

/** "1", "2", "C SELECT 1", "E 42501", "Z I" …: a transcript that reads like the protocol. */
export function describe(message: FramedMessage): string {
  const type = String.fromCharCode(message.type);
  switch (type) {
    case 'C':
      return `C ${message.body.toString('utf8', 0, message.body.length - 1)}`;
    case 'E':
    case 'N':
      return `${type} ${decodeNoticeFields(message.body).get('C')}`;
    case 'Z':
      return `Z ${String.fromCharCode(message.body[0]!)}`;
    default:
      return type;
  }
}

export function errorText(message: FramedMessage): string {
  return decodeNoticeFields(message.body).get('M') ?? '';
}
