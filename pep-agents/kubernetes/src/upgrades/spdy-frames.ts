// SPDY/3.1 framing (the draft's section 2.2), read incrementally from a byte stream cut anywhere,
// and written. kubectl's SPDY exec, attach and port-forward (and the port-forward tunnel over
// WebSocket) open one SPDY stream per purpose with a SYN_STREAM whose header block says what the
// stream is; data then flows in DATA frames named by stream id. Header blocks are compressed
// with a zlib context that lives as long as the connection (spdy-header-zlib.ts).

export const SPDY_VERSION = 3;

export const SPDY_CONTROL = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

export const SPDY_FLAG_FIN = 0x01;

/** RST_STREAM status codes the PEP sends. */
export const SPDY_RST = { protocolError: 1, refusedStream: 3, cancel: 5 } as const;

export type SpdyFrame =
  | { readonly kind: 'control'; readonly type: number; readonly flags: number; readonly payload: Buffer }
  | { readonly kind: 'data'; readonly streamId: number; readonly flags: number; readonly data: Buffer };

export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(`spdy: ${message}`);
    this.name = 'SpdyProtocolError';
  }
}

/** The header of any frame is 8 bytes; its length field counts what follows. */
const FRAME_HEADER = 8;

export class SpdyFrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** @param maxFrameBytes the largest frame body accepted (SPDY allows 16 MiB − 1; the PEP may hold less). */
  constructor(private readonly maxFrameBytes: number) {}

  /** The frames the bytes complete; bytes of an unfinished frame are kept. Throws SpdyProtocolError. */
  push(chunk: Buffer): SpdyFrame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: SpdyFrame[] = [];
    while (this.buffered.length >= FRAME_HEADER) {
      const bytes = this.buffered;
      const length = bytes.readUInt32BE(4) & 0xffffff;
      if (length > this.maxFrameBytes) throw new SpdyProtocolError(`a frame of ${length} bytes is larger than allowed`);
      if (bytes.length < FRAME_HEADER + length) break;
      const flags = bytes[4]!;
      const body = Buffer.from(bytes.subarray(FRAME_HEADER, FRAME_HEADER + length));
      const first = bytes.readUInt32BE(0);
      if ((first & 0x80000000) !== 0) {
        const version = (first >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyProtocolError(`a control frame of version ${version}`);
        frames.push({ kind: 'control', type: first & 0xffff, flags, payload: body });
      } else {
        const streamId = first & 0x7fffffff;
        if (streamId === 0) throw new SpdyProtocolError('a data frame on stream 0');
        frames.push({ kind: 'data', streamId, flags, data: body });
      }
      this.buffered = bytes.subarray(FRAME_HEADER + length);
    }
    return frames;
  }

  get pendingBytes(): number {
    return this.buffered.length;
  }
}

export function encodeSpdyFrame(frame: SpdyFrame): Buffer {
  const body = frame.kind === 'control' ? frame.payload : frame.data;
  if (body.length > 0xffffff) throw new SpdyProtocolError('a frame body is larger than 16 MiB');
  const header = Buffer.alloc(FRAME_HEADER);
  if (frame.kind === 'control') header.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | frame.type) >>> 0, 0);
  else header.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
  header.writeUInt32BE(((frame.flags & 0xff) << 24 | body.length) >>> 0, 4);
  return Buffer.concat([header, body]);
}

/** A SYN_STREAM's fixed fields and its (still compressed) header block. */
export interface SynStream {
  readonly streamId: number;
  readonly associatedStreamId: number;
  /** The byte holding the 3-bit priority, kept whole. */
  readonly priorityByte: number;
  readonly slot: number;
  readonly headerBlock: Buffer;
}

export function readSynStream(payload: Buffer): SynStream {
  if (payload.length < 10) throw new SpdyProtocolError('a SYN_STREAM is shorter than its fixed fields');
  const streamId = payload.readUInt32BE(0) & 0x7fffffff;
  if (streamId === 0) throw new SpdyProtocolError('a SYN_STREAM for stream 0');
  return {
    streamId,
    associatedStreamId: payload.readUInt32BE(4) & 0x7fffffff,
    priorityByte: payload[8]!,
    slot: payload[9]!,
    headerBlock: payload.subarray(10),
  };
}

export function writeSynStream(syn: SynStream): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(syn.streamId & 0x7fffffff, 0);
  fixed.writeUInt32BE(syn.associatedStreamId & 0x7fffffff, 4);
  fixed[8] = syn.priorityByte;
  fixed[9] = syn.slot;
  return Buffer.concat([fixed, syn.headerBlock]);
}

/** The stream a SYN_REPLY, RST_STREAM, HEADERS or WINDOW_UPDATE names (its first 31 bits), and what follows. */
export function streamIdOf(payload: Buffer): number {
  if (payload.length < 4) throw new SpdyProtocolError('a control frame is shorter than its stream id');
  return payload.readUInt32BE(0) & 0x7fffffff;
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(streamId & 0x7fffffff, 0);
  payload.writeUInt32BE(status, 4);
  return encodeSpdyFrame({ kind: 'control', type: SPDY_CONTROL.rstStream, flags: 0, payload });
}

export function goAwayFrame(lastGoodStreamId: number, status: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(lastGoodStreamId & 0x7fffffff, 0);
  payload.writeUInt32BE(status, 4);
  return encodeSpdyFrame({ kind: 'control', type: SPDY_CONTROL.goAway, flags: 0, payload });
}
