// WebSocket framing (RFC 6455 section 5) read incrementally from a byte stream cut anywhere, and
// written. The PEP reads what both sides of an exec, attach or port-forward say to record it and,
// for the port-forward tunnel, to check each stream's port. No extension is ever negotiated
// through the PEP (it strips the offer), so a set RSV bit is a protocol error, not compression.
import { randomBytes } from 'node:crypto';

export const WS_OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** A whole message (fragments joined), or a control frame (close, ping, pong) as it arrived. */
export type WebSocketEvent =
  | { readonly kind: 'message'; readonly opcode: typeof WS_OPCODE.text | typeof WS_OPCODE.binary; readonly data: Buffer }
  | { readonly kind: 'control'; readonly opcode: typeof WS_OPCODE.close | typeof WS_OPCODE.ping | typeof WS_OPCODE.pong; readonly data: Buffer };

export class WebSocketProtocolError extends Error {
  constructor(message: string) {
    super(`websocket: ${message}`);
    this.name = 'WebSocketProtocolError';
  }
}

export interface WebSocketReaderOptions {
  /** Frames from a client are masked, frames from a server are not (RFC 6455 5.1): anything else is refused. */
  readonly masked: boolean;
  /** The largest message (all its fragments) accepted; a larger one is a protocol error. */
  readonly maxMessageBytes: number;
}

export class WebSocketReader {
  private buffered: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private fragmentOpcode: typeof WS_OPCODE.text | typeof WS_OPCODE.binary | undefined;
  private closed = false;

  constructor(private readonly options: WebSocketReaderOptions) {}

  /** The events the bytes complete; bytes of an unfinished frame are kept for the next push. Throws WebSocketProtocolError. */
  push(chunk: Buffer): WebSocketEvent[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const events: WebSocketEvent[] = [];
    for (;;) {
      const frame = this.nextFrame();
      if (frame === undefined) return events;
      const event = this.accept(frame);
      if (event) events.push(event);
    }
  }

  /** Bytes of a frame not yet complete. */
  get pendingBytes(): number {
    return this.buffered.length + this.fragmentBytes;
  }

  private nextFrame(): { fin: boolean; opcode: number; payload: Buffer } | undefined {
    const bytes = this.buffered;
    if (bytes.length < 2) return undefined;
    const first = bytes[0]!;
    const second = bytes[1]!;
    if ((first & 0x70) !== 0) throw new WebSocketProtocolError('a reserved bit is set, but no extension was negotiated');
    const masked = (second & 0x80) !== 0;
    if (masked !== this.options.masked) throw new WebSocketProtocolError(this.options.masked ? 'a client frame is not masked' : 'a server frame is masked');
    let length = second & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (bytes.length < 4) return undefined;
      length = bytes.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (bytes.length < 10) return undefined;
      const high = bytes.readUInt32BE(2);
      const low = bytes.readUInt32BE(6);
      if (high !== 0 || low > this.options.maxMessageBytes) throw new WebSocketProtocolError('a frame is larger than allowed');
      length = low;
      offset = 10;
    }
    if (length > this.options.maxMessageBytes) throw new WebSocketProtocolError('a frame is larger than allowed');
    const maskOffset = offset;
    if (masked) offset += 4;
    if (bytes.length < offset + length) return undefined;
    const payload = Buffer.from(bytes.subarray(offset, offset + length));
    if (masked) {
      for (let index = 0; index < payload.length; index += 1) payload[index]! ^= bytes[maskOffset + (index & 3)]!;
    }
    this.buffered = bytes.subarray(offset + length);
    return { fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload };
  }

  private accept(frame: { fin: boolean; opcode: number; payload: Buffer }): WebSocketEvent | undefined {
    if (this.closed) throw new WebSocketProtocolError('a frame came after the close frame');
    const { fin, opcode, payload } = frame;
    if (opcode === WS_OPCODE.close || opcode === WS_OPCODE.ping || opcode === WS_OPCODE.pong) {
      if (!fin || payload.length > 125) throw new WebSocketProtocolError('a control frame is fragmented or longer than 125 bytes');
      if (opcode === WS_OPCODE.close) this.closed = true;
      return { kind: 'control', opcode, data: payload };
    }
    if (opcode === WS_OPCODE.text || opcode === WS_OPCODE.binary) {
      if (this.fragmentOpcode !== undefined) throw new WebSocketProtocolError('a new message began before the previous one ended');
      if (fin) return { kind: 'message', opcode, data: payload };
      this.fragmentOpcode = opcode;
      this.addFragment(payload);
      return undefined;
    }
    if (opcode === WS_OPCODE.continuation) {
      if (this.fragmentOpcode === undefined) throw new WebSocketProtocolError('a continuation frame belongs to no message');
      this.addFragment(payload);
      if (!fin) return undefined;
      const event: WebSocketEvent = { kind: 'message', opcode: this.fragmentOpcode, data: Buffer.concat(this.fragments) };
      this.fragments = [];
      this.fragmentBytes = 0;
      this.fragmentOpcode = undefined;
      return event;
    }
    throw new WebSocketProtocolError(`opcode ${opcode} is not defined`);
  }

  private addFragment(payload: Buffer): void {
    this.fragmentBytes += payload.length;
    if (this.fragmentBytes > this.options.maxMessageBytes) throw new WebSocketProtocolError('a message is larger than allowed');
    this.fragments.push(payload);
  }
}

/** One unfragmented frame; `masked` for frames a client sends (a fresh random key each). */
export function encodeWebSocketFrame(opcode: number, payload: Buffer, masked: boolean): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  header[0] = 0x80 | opcode;
  header[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) header.writeUInt16BE(length, 2);
  if (lengthBytes === 8) header.writeBigUInt64BE(BigInt(length), 2);
  if (!masked) return Buffer.concat([header, payload]);
  const key = randomBytes(4);
  key.copy(header, 2 + lengthBytes);
  const body = Buffer.from(payload);
  for (let index = 0; index < body.length; index += 1) body[index]! ^= key[index & 3]!;
  return Buffer.concat([header, body]);
}

/** A close frame's body: a status code and a short reason (RFC 6455 5.5.1), reason cut to fit 125 bytes. */
export function closeFramePayload(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, 123);
  const body = Buffer.alloc(2 + text.length);
  body.writeUInt16BE(code, 0);
  text.copy(body, 2);
  return body;
}
