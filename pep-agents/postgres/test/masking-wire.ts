/**
 * A minimal frontend for the masking suites: speaks the protocol to a real server and returns
 * the backend messages exactly as they arrived (type and body), so the masker is fed the real
 * bytes of RowDescription, DataRow, CopyData, ErrorResponse and NoticeResponse.
 */
import { connect, type Socket } from 'node:net';

export interface BackendMessage {
  readonly type: string;
  readonly body: Buffer;
}

export class WireConnection {
  private buffer = Buffer.alloc(0);
  private readonly queue: BackendMessage[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 5) {
        const length = this.buffer.readInt32BE(1);
        if (this.buffer.length < 1 + length) break;
        this.queue.push({ type: String.fromCharCode(this.buffer[0] as number), body: Buffer.from(this.buffer.subarray(5, 1 + length)) });
        this.buffer = this.buffer.subarray(1 + length);
      }
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  /** `target`: a TCP port on 127.0.0.1, or the path of the server's Unix socket. */
  static async open(target: number | string, user = 'postgres', database = 'postgres'): Promise<WireConnection> {
    const socket = typeof target === 'number' ? connect({ host: '127.0.0.1', port: target }) : connect({ path: target });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const connection = new WireConnection(socket);
    const parameters = Buffer.from(`user\0${user}\0database\0${database}\0client_encoding\0UTF8\0\0`, 'utf8');
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + parameters.length, 0);
    startup.writeInt32BE(196608, 4);
    socket.write(Buffer.concat([startup, parameters]));
    const greeting = await connection.untilReady();
    const failure = greeting.find((message) => message.type === 'E');
    if (failure) throw new Error(`startup failed: ${failure.body.toString('utf8')}`);
    return connection;
  }

  /** A simple Query: every message up to and including ReadyForQuery. */
  simpleQuery(sql: string): Promise<BackendMessage[]> {
    this.socket.write(frame('Q', cstring(sql)));
    return this.untilReady();
  }

  /** Parse, Bind (text parameters, the given result formats), Describe portal, Execute, Sync. */
  extendedQuery(sql: string, parameters: ReadonlyArray<string | null>, resultFormats: readonly number[]): Promise<BackendMessage[]> {
    const parse = Buffer.concat([cstring(''), cstring(sql), int16(0)]);
    const values = parameters.map((value) => (value === null ? int32(-1) : Buffer.concat([int32(Buffer.byteLength(value)), Buffer.from(value, 'utf8')])));
    const bind = Buffer.concat([
      cstring(''), cstring(''),
      int16(0),
      int16(parameters.length), ...values,
      int16(resultFormats.length), ...resultFormats.map(int16),
    ]);
    this.socket.write(Buffer.concat([
      frame('P', parse),
      frame('B', bind),
      frame('D', Buffer.concat([Buffer.from('P'), cstring('')])),
      frame('E', Buffer.concat([cstring(''), int32(0)])),
      frame('S', Buffer.alloc(0)),
    ]));
    return this.untilReady();
  }

  close(): void {
    this.socket.end(frame('X', Buffer.alloc(0)));
  }

  private async untilReady(): Promise<BackendMessage[]> {
    const messages: BackendMessage[] = [];
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        messages.push(next);
        if (next.type === 'Z') return messages;
        continue;
      }
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

function frame(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function cstring(text: string): Buffer {
  return Buffer.from(`${text}\0`, 'utf8');
}

function int16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeInt16BE(value, 0);
  return out;
}

function int32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32BE(value, 0);
  return out;
}
