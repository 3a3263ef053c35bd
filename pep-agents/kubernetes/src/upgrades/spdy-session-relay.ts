// The SPDY/3.1 session between a client and the API server, frame by frame, for exec, attach
// and port-forward (over a raw upgraded connection, or tunnelled in WebSocket messages). Each
// stream the client opens says in its SYN_STREAM headers what it is; the PEP reads them with the
// client's zlib context and writes them again with its own toward the API server, so the API
// server reads exactly the headers the PEP judged, and a refused stream never reaches it (its
// header block is simply not sent; the client gets RST_STREAM). Port-forward streams must name
// a decided port. Frames from the API server pass as they came (their header blocks belong to
// the server's context, which the PEP leaves to the client), except that the PEP's own frames
// may go between them.
import type { ExecStreamRecorder } from './exec-stream-recorder.ts';
import { portNumber } from './port-forward-ports.ts';
import type { PortForwardRecorder } from './port-forward-recorder.ts';
import { parseHeaderBlock, singleHeader, writeHeaderBlock, type SpdyHeaders } from './spdy-header-block.ts';
import { SpdyHeaderDeflater, SpdyHeaderInflater } from './spdy-header-zlib.ts';
import {
  encodeSpdyFrame,
  readSynStream,
  rstStreamFrame,
  SPDY_CONTROL,
  SPDY_RST,
  SpdyFrameReader,
  SpdyProtocolError,
  streamIdOf,
  writeSynStream,
  type SpdyFrame,
} from './spdy-frames.ts';

/** Exec and attach stream types (the `streamtype` header). */
const EXEC_STREAM_TYPES = new Set(['error', 'stdin', 'stdout', 'stderr', 'resize']);
const PORT_FORWARD_STREAM_TYPES = new Set(['data', 'error']);

/** Whether a port-forward stream may reach this port (asks the PDP for ports the request did not name). */
export interface PortDecider {
  allows(port: number): Promise<boolean>;
}

export type SpdyPurpose =
  | { readonly kind: 'exec'; readonly recorder: ExecStreamRecorder }
  | { readonly kind: 'port-forward'; readonly recorder: PortForwardRecorder; readonly ports: PortDecider };

export interface SpdySessionRelayOptions {
  readonly purpose: SpdyPurpose;
  readonly toClient: (bytes: Buffer) => Promise<void>;
  readonly toServer: (bytes: Buffer) => Promise<void>;
  /** The largest frame body accepted from either side. */
  readonly maxFrameBytes: number;
}

type StreamRole = { readonly type: string; readonly port?: number };

export class SpdySessionRelay {
  private readonly clientFrames: SpdyFrameReader;
  private readonly serverFrames: SpdyFrameReader;
  private readonly clientHeaders = new SpdyHeaderInflater();
  private readonly serverBound = new SpdyHeaderDeflater();
  /** Streams the client opened and the PEP let through, by id. */
  private readonly streams = new Map<number, StreamRole>();
  /** Streams the PEP refused: their later frames from the client are dropped. */
  private readonly refused = new Set<number>();

  constructor(private readonly options: SpdySessionRelayOptions) {
    this.clientFrames = new SpdyFrameReader(options.maxFrameBytes);
    this.serverFrames = new SpdyFrameReader(options.maxFrameBytes);
  }

  /** Bytes from the client; call one at a time, in order. Throws for a protocol error (the session must end). */
  async fromClient(chunk: Buffer): Promise<void> {
    for (const frame of this.clientFrames.push(chunk)) await this.clientFrame(frame);
  }

  /** Bytes from the API server; call one at a time, in order. */
  async fromServer(chunk: Buffer): Promise<void> {
    const out: Buffer[] = [];
    for (const frame of this.serverFrames.push(chunk)) {
      if (frame.kind === 'data') this.observeServerData(frame.streamId, frame.data);
      out.push(encodeSpdyFrame(frame));
    }
    if (out.length > 0) await this.options.toClient(Buffer.concat(out));
  }

  close(): void {
    this.clientHeaders.close();
    this.serverBound.close();
  }

  private async clientFrame(frame: SpdyFrame): Promise<void> {
    if (frame.kind === 'data') {
      if (this.refused.has(frame.streamId)) return;
      this.observeClientData(frame.streamId, frame.data);
      return this.options.toServer(encodeSpdyFrame(frame));
    }
    switch (frame.type) {
      case SPDY_CONTROL.synStream:
        return this.synStream(frame.flags, frame.payload);
      case SPDY_CONTROL.synReply:
      case SPDY_CONTROL.headers:
        return this.headersFrame(frame.type, frame.flags, frame.payload);
      case SPDY_CONTROL.rstStream:
      case SPDY_CONTROL.windowUpdate: {
        // The API server never heard of a refused stream: what the client says of it stays here.
        if (this.refused.has(streamIdOf(frame.payload))) return;
        return this.options.toServer(encodeSpdyFrame(frame));
      }
      case SPDY_CONTROL.settings:
      case SPDY_CONTROL.ping:
      case SPDY_CONTROL.goAway:
        return this.options.toServer(encodeSpdyFrame(frame));
      default:
        // An unknown control type may carry a header block the PEP cannot place in the zlib stream.
        throw new SpdyProtocolError(`control frame type ${frame.type} is not part of SPDY/3.1`);
    }
  }

  private async synStream(flags: number, payload: Buffer): Promise<void> {
    const syn = readSynStream(payload);
    if (this.streams.has(syn.streamId) || this.refused.has(syn.streamId)) throw new SpdyProtocolError(`stream ${syn.streamId} was opened twice`);
    // Every block goes through the client's context, refused or not: the next one depends on it.
    const headers = parseHeaderBlock(await this.clientHeaders.inflate(syn.headerBlock));
    const role = await this.admit(headers);
    if (role === undefined) {
      this.refused.add(syn.streamId);
      return this.options.toClient(rstStreamFrame(syn.streamId, SPDY_RST.refusedStream));
    }
    this.streams.set(syn.streamId, role);
    const headerBlock = await this.serverBound.deflate(writeHeaderBlock(headers));
    await this.options.toServer(encodeSpdyFrame({ kind: 'control', type: SPDY_CONTROL.synStream, flags, payload: writeSynStream({ ...syn, headerBlock }) }));
  }

  private async headersFrame(type: number, flags: number, payload: Buffer): Promise<void> {
    const streamId = streamIdOf(payload);
    const headers = parseHeaderBlock(await this.clientHeaders.inflate(payload.subarray(4)));
    if (this.refused.has(streamId)) return;
    // A stream is what its SYN_STREAM said; later headers may not say otherwise.
    if (headers.has('streamtype') || headers.has('port')) throw new SpdyProtocolError('later headers may not change what a stream is');
    const headerBlock = await this.serverBound.deflate(writeHeaderBlock(headers));
    await this.options.toServer(encodeSpdyFrame({ kind: 'control', type, flags, payload: Buffer.concat([payload.subarray(0, 4), headerBlock]) }));
  }

  /** The stream's role when it may open, undefined when it is refused. */
  private async admit(headers: SpdyHeaders): Promise<StreamRole | undefined> {
    const type = singleHeader(headers, 'streamtype');
    const { purpose } = this.options;
    if (purpose.kind === 'exec') return type !== undefined && EXEC_STREAM_TYPES.has(type) ? { type } : undefined;
    const portText = singleHeader(headers, 'port');
    const port = portText === undefined ? undefined : portNumber(portText);
    if (type === undefined || !PORT_FORWARD_STREAM_TYPES.has(type) || port === undefined || !(await purpose.ports.allows(port))) {
      purpose.recorder.refusedStream(port);
      return undefined;
    }
    if (type === 'data') purpose.recorder.opened(port);
    return { type, port };
  }

  private observeClientData(streamId: number, data: Buffer): void {
    const role = this.streams.get(streamId);
    if (role === undefined) return;
    const { purpose } = this.options;
    if (purpose.kind === 'port-forward') {
      if (role.type === 'data' && role.port !== undefined) purpose.recorder.sent(role.port, data.length);
      return;
    }
    if (role.type === 'stdin') purpose.recorder.input(data);
    else if (role.type === 'resize') purpose.recorder.resize(data);
  }

  private observeServerData(streamId: number, data: Buffer): void {
    const role = this.streams.get(streamId);
    if (role === undefined) return;
    const { purpose } = this.options;
    if (purpose.kind === 'port-forward') {
      if (role.type === 'data' && role.port !== undefined) purpose.recorder.received(role.port, data.length);
      return;
    }
    if (role.type === 'stdout' || role.type === 'stderr') purpose.recorder.output(data);
    else if (role.type === 'error') purpose.recorder.statusBytesIn(data);
  }
}
