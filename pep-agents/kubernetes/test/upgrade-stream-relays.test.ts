// The stream relays of exec, attach and port-forward: a SPDY session whose streams the client
// opens with compressed headers, a port-forward tunnelled in WebSocket messages, exec over the
// channel protocol. What reaches the API server side is read back with an independent inflater
// (Node's zlib with the SPDY/3 dictionary); what the recorders keep is what the client saw.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { MemorySessionEventSink, TerminalRecorder, type SessionRecordingEventV1 } from '@portcullis/pep-core';
import { channelProtocol, writeChannelMessage } from '../src/upgrades/channel-protocol.ts';
import { ExecStreamRecorder, RecordingBehindError, commandEnd } from '../src/upgrades/exec-stream-recorder.ts';
import { queryPorts, queryWithPort } from '../src/upgrades/port-forward-ports.ts';
import { PortForwardRecorder } from '../src/upgrades/port-forward-recorder.ts';
import { SPDY3_HEADER_DICTIONARY } from '../src/upgrades/spdy-dictionary.ts';
import { parseHeaderBlock, writeHeaderBlock } from '../src/upgrades/spdy-header-block.ts';
import { encodeSpdyFrame, readSynStream, SPDY_CONTROL, SPDY_RST, SpdyFrameReader, streamIdOf, writeSynStream, type SpdyFrame } from '../src/upgrades/spdy-frames.ts';
import { SpdySessionRelay, type SpdyPurpose } from '../src/upgrades/spdy-session-relay.ts';
import { WebSocketChannelRelay } from '../src/upgrades/websocket-channel-relay.ts';
import { encodeWebSocketFrame, WebSocketReader, WS_OPCODE } from '../src/upgrades/websocket-frames.ts';
import { WebSocketSpdyTunnel } from '../src/upgrades/websocket-spdy-tunnel.ts';

async function flushThrough(stream: Deflate | Inflate, input: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const onData = (chunk: Buffer): number => chunks.push(chunk);
  stream.on('data', onData);
  stream.write(input);
  await new Promise<void>((resolve) => stream.flush(constants.Z_SYNC_FLUSH, () => resolve()));
  stream.off('data', onData);
  return Buffer.concat(chunks);
}

/** A SPDY client as kubectl is one: it opens streams with headers compressed in one context. */
class SpdyClient {
  private readonly deflate = createDeflate({ dictionary: SPDY3_HEADER_DICTIONARY });
  async synStream(streamId: number, headers: Record<string, string>): Promise<Buffer> {
    const block = writeHeaderBlock(new Map(Object.entries(headers).map(([name, value]) => [name, [value]])));
    const headerBlock = await flushThrough(this.deflate, block);
    return encodeSpdyFrame({ kind: 'control', type: SPDY_CONTROL.synStream, flags: 0, payload: writeSynStream({ streamId, associatedStreamId: 0, priorityByte: 0, slot: 0, headerBlock }) });
  }
  close(): void {
    this.deflate.close();
  }
}

/** The API server's side: every frame it was sent, SYN_STREAM headers read with its own inflater. */
class SpdyServerView {
  private readonly reader = new SpdyFrameReader(1 << 24);
  private readonly inflate = createInflate({ dictionary: SPDY3_HEADER_DICTIONARY });
  readonly frames: SpdyFrame[] = [];
  readonly opened = new Map<number, Record<string, string>>();
  async receive(bytes: Buffer): Promise<void> {
    for (const frame of this.reader.push(bytes)) {
      this.frames.push(frame);
      if (frame.kind === 'control' && frame.type === SPDY_CONTROL.synStream) {
        const syn = readSynStream(frame.payload);
        const headers = parseHeaderBlock(await flushThrough(this.inflate, syn.headerBlock));
        this.opened.set(syn.streamId, Object.fromEntries([...headers].map(([name, values]) => [name, values.join(',')])));
      }
    }
  }
  close(): void {
    this.inflate.close();
  }
}

function data(streamId: number, text: string | Buffer, flags = 0): Buffer {
  return encodeSpdyFrame({ kind: 'data', streamId, flags, data: Buffer.isBuffer(text) ? text : Buffer.from(text) });
}

function relayFor(purpose: SpdyPurpose): { relay: SpdySessionRelay; server: SpdyServerView; client: Buffer[] } {
  const server = new SpdyServerView();
  const client: Buffer[] = [];
  const relay = new SpdySessionRelay({ purpose, maxFrameBytes: 1 << 20, toServer: (bytes) => server.receive(bytes), toClient: async (bytes) => void client.push(bytes) });
  return { relay, server, client };
}

function terminal(): { recorder: TerminalRecorder; sink: MemorySessionEventSink } {
  const sink = new MemorySessionEventSink();
  const recorder = new TerminalRecorder({ sink, session: { id: 's1' }, protocol: 'kubernetes', resource: { type: 'kubernetes', name: 'prod-cluster' }, decisionId: 'd1', terminal: { cols: 80, rows: 24 } });
  return { recorder, sink };
}

function recordedEvents(sink: MemorySessionEventSink): unknown[] {
  return sink.events.filter((event): event is SessionRecordingEventV1 => event.event === 'session.recording').flatMap((event) => event.recording.events.map(([, code, text]) => [code, text]));
}

describe('the SPDY session relay', () => {
  it('lets a port-forward stream through only to a decided port; the API server reads the headers the PEP judged', async () => {
    const recorder = new PortForwardRecorder();
    const asked: number[] = [];
    const { relay, server, client } = relayFor({ kind: 'port-forward', recorder, ports: { allows: async (port) => {
      asked.push(port);
      return port === 8080;
    } } });
    const kubectl = new SpdyClient();
    const stream = Buffer.concat([
      await kubectl.synStream(1, { streamtype: 'error', port: '8080', requestid: '0' }),
      await kubectl.synStream(3, { streamtype: 'data', port: '8080', requestid: '0' }),
      data(3, 'GET / HTTP/1.1\r\n\r\n'),
      await kubectl.synStream(5, { streamtype: 'error', port: '22', requestid: '1' }),
      await kubectl.synStream(7, { streamtype: 'data', port: '22', requestid: '1' }),
      data(7, 'SSH-2.0-attempt'),
      await kubectl.synStream(9, { streamtype: 'data', port: '0080', requestid: '2' }),
    ]);
    // Cut mid-frame: the relay reads frames, not chunks.
    await relay.fromClient(stream.subarray(0, 13));
    await relay.fromClient(stream.subarray(13));
    await relay.fromServer(data(3, 'HTTP/1.1 200 OK\r\n\r\nhello'));

    assert.deepEqual([...server.opened.entries()], [
      [1, { streamtype: 'error', port: '8080', requestid: '0' }],
      [3, { streamtype: 'data', port: '8080', requestid: '0' }],
    ]);
    const forwardedData = server.frames.filter((frame) => frame.kind === 'data');
    assert.deepEqual(forwardedData.map((frame) => frame.kind === 'data' && frame.data.toString()), ['GET / HTTP/1.1\r\n\r\n'], 'the refused stream\'s data never reaches the API server');
    // The client is told each refused stream was refused, then sees the API server's frames.
    const toClient = new SpdyFrameReader(1 << 20).push(Buffer.concat(client));
    const resets = toClient.filter((frame) => frame.kind === 'control' && frame.type === SPDY_CONTROL.rstStream);
    assert.deepEqual(resets.map((frame) => frame.kind === 'control' && [streamIdOf(frame.payload), frame.payload.readUInt32BE(4)]), [[5, SPDY_RST.refusedStream], [7, SPDY_RST.refusedStream], [9, SPDY_RST.refusedStream]]);
    const last = toClient.at(-1)!;
    assert.equal(last.kind === 'data' ? last.data.toString() : '', 'HTTP/1.1 200 OK\r\n\r\nhello');
    // A port written oddly is never decided: it is no port.
    assert.deepEqual(asked, [8080, 8080, 22, 22]);
    assert.deepEqual(recorder.finish(), { status: 'failure', error: 'streams refused (port not decided): an unreadable port, 22', bytes: 24, kind: 'port-forward' });
    assert.deepEqual([...recorder.totals.sent], [[8080, 18]]);
    relay.close();
    server.close();
    kubectl.close();
  });

  it('records an exec\'s streams by their type, and refuses a stream type exec does not have', async () => {
    const { recorder: terminalRecorder, sink } = terminal();
    const recorder = new ExecStreamRecorder(terminalRecorder);
    const { relay, server, client } = relayFor({ kind: 'exec', recorder });
    const kubectl = new SpdyClient();
    await relay.fromClient(Buffer.concat([
      await kubectl.synStream(1, { streamtype: 'error' }),
      await kubectl.synStream(3, { streamtype: 'stdin' }),
      await kubectl.synStream(5, { streamtype: 'stdout' }),
      await kubectl.synStream(7, { streamtype: 'resize' }),
      await kubectl.synStream(9, { streamtype: 'data', port: '22' }),
      data(7, '{"Width":120,"Height":40}\n{"Wid'),
      data(7, 'th":100,"Height":30}\n'),
      data(3, 'id\r'),
    ]));
    await relay.fromServer(Buffer.concat([data(5, 'id\r\nuid=0(root)\r\n'), data(1, '{"metadata":{},"status":"Success"}')]));
    assert.deepEqual([...server.opened.keys()], [1, 3, 5, 7]);
    assert.equal(new SpdyFrameReader(1 << 20).push(Buffer.concat(client)).filter((frame) => frame.kind === 'control' && frame.type === SPDY_CONTROL.rstStream).length, 1);
    assert.deepEqual(recorder.finish(), { status: 'success', bytes: 17, kind: 'exec-terminal' });
    // Typed input is kept as the terminal echoed it (the SDK's echo filter); output as sent.
    const events = recordedEvents(sink);
    assert.deepEqual(events.filter((event) => (event as string[])[0] !== 'i'), [['r', '120x40'], ['r', '100x30'], ['o', 'id\r\nuid=0(root)\r\n']]);
    relay.close();
    server.close();
    kubectl.close();
  });

  it('ends the session on a header block that does not decompress, or a stream opened twice', async () => {
    const { relay } = relayFor({ kind: 'exec', recorder: new ExecStreamRecorder(undefined) });
    const garbage = encodeSpdyFrame({ kind: 'control', type: SPDY_CONTROL.synStream, flags: 0, payload: writeSynStream({ streamId: 1, associatedStreamId: 0, priorityByte: 0, slot: 0, headerBlock: Buffer.from('not zlib') }) });
    await assert.rejects(relay.fromClient(garbage), /does not decompress/);
    relay.close();
    const second = relayFor({ kind: 'exec', recorder: new ExecStreamRecorder(undefined) });
    const kubectl = new SpdyClient();
    await assert.rejects(second.relay.fromClient(Buffer.concat([await kubectl.synStream(1, { streamtype: 'error' }), await kubectl.synStream(1, { streamtype: 'stdin' })])), /opened twice/);
    second.relay.close();
    second.server.close();
    kubectl.close();
  });
});

describe('the port-forward tunnel over WebSocket', () => {
  it('unwraps SPDY from client messages cut anywhere, checks ports, and wraps what it sends in masked messages', async () => {
    const recorder = new PortForwardRecorder();
    const server = new SpdyServerView();
    const toServer: Buffer[] = [];
    const toClient: Buffer[] = [];
    const tunnel = new WebSocketSpdyTunnel({ maxMessageBytes: 1 << 20, toServer: async (bytes) => void toServer.push(bytes), toClient: async (bytes) => void toClient.push(bytes) });
    const relay = new SpdySessionRelay({ purpose: { kind: 'port-forward', recorder, ports: { allows: async (port) => port === 5432 } }, maxFrameBytes: 1 << 20, toClient: tunnel.clientBound, toServer: tunnel.serverBound });
    tunnel.attach(relay);
    const kubectl = new SpdyClient();
    const spdy = Buffer.concat([await kubectl.synStream(1, { streamtype: 'data', port: '5432', requestid: '0' }), data(1, 'startup'), await kubectl.synStream(3, { streamtype: 'data', port: '6379', requestid: '1' })]);
    // Two WebSocket messages that cut one SPDY frame in half, and a ping between them.
    await tunnel.fromClient(Buffer.concat([
      encodeWebSocketFrame(WS_OPCODE.binary, spdy.subarray(0, 20), true),
      encodeWebSocketFrame(WS_OPCODE.ping, Buffer.from('p'), true),
      encodeWebSocketFrame(WS_OPCODE.binary, spdy.subarray(20), true),
    ]));
    const serverMessages = new WebSocketReader({ masked: true, maxMessageBytes: 1 << 20 }).push(Buffer.concat(toServer));
    assert.deepEqual(serverMessages.filter((event) => event.kind === 'control').map((event) => event.data.toString()), ['p']);
    for (const event of serverMessages) if (event.kind === 'message') await server.receive(event.data);
    assert.deepEqual([...server.opened.values()].map((headers) => headers.port), ['5432']);
    assert.deepEqual(server.frames.filter((frame) => frame.kind === 'data').map((frame) => frame.kind === 'data' && frame.data.toString()), ['startup']);
    const clientMessages = new WebSocketReader({ masked: false, maxMessageBytes: 1 << 20 }).push(Buffer.concat(toClient));
    const resets = clientMessages.flatMap((event) => (event.kind === 'message' ? new SpdyFrameReader(1 << 20).push(event.data) : []));
    assert.deepEqual(resets.map((frame) => frame.kind === 'control' && streamIdOf(frame.payload)), [3]);
    await assert.rejects(tunnel.fromClient(encodeWebSocketFrame(WS_OPCODE.text, Buffer.from('x'), true)), /text message/);
    relay.close();
    server.close();
    kubectl.close();
  });
});

describe('exec over the WebSocket channel protocol', () => {
  it('records stdin, stdout, stderr and resizes from frames cut anywhere, and the command\'s exit status', () => {
    const protocol = channelProtocol('v5.channel.k8s.io')!;
    const { recorder: terminalRecorder, sink } = terminal();
    const recorder = new ExecStreamRecorder(terminalRecorder);
    const relay = new WebSocketChannelRelay(protocol, { kind: 'exec', recorder }, 1 << 20);
    const clientFrame = (channel: number, text: string): Buffer => encodeWebSocketFrame(WS_OPCODE.binary, writeChannelMessage(protocol, channel, Buffer.from(text)).payload, true);
    const serverFrame = (channel: number, text: string): Buffer => encodeWebSocketFrame(WS_OPCODE.binary, writeChannelMessage(protocol, channel, Buffer.from(text)).payload, false);
    const fromClient = Buffer.concat([clientFrame(4, '{"Width":90,"Height":20}'), clientFrame(0, 'exit 3\r')]);
    for (let offset = 0; offset < fromClient.length; offset += 7) relay.fromClient(fromClient.subarray(offset, offset + 7));
    relay.fromServer(Buffer.concat([serverFrame(1, 'exit 3\r\n'), serverFrame(2, 'bye\r\n')]));
    relay.fromServer(serverFrame(3, JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } })));
    assert.deepEqual(recorder.finish(), { status: 'failure', error: 'exit status 3', bytes: 13, kind: 'exec-terminal' });
    assert.deepEqual(recorder.totals, { inputBytes: 7, outputBytes: 13 });
    assert.deepEqual(recordedEvents(sink).filter((event) => (event as string[])[0] !== 'i'), [['r', '90x20'], ['o', 'exit 3\r\n'], ['o', 'bye\r\n']]);
    // A frame the PEP cannot read ends the session instead of passing unread.
    assert.throws(() => relay.fromClient(encodeWebSocketFrame(WS_OPCODE.text, Buffer.from('0aGk='), true)), /text message on a binary/);
  });

  it('reads the closing status in each of its forms', () => {
    assert.deepEqual(commandEnd(Buffer.alloc(0)), {});
    assert.deepEqual(commandEnd(Buffer.from('{"status":"Success"}')), {});
    assert.deepEqual(commandEnd(Buffer.from('{"status":"Failure","message":"container not found"}')), { error: 'container not found' });
    assert.deepEqual(commandEnd(Buffer.from('plain text error')), { error: 'plain text error' });
  });
});

/** A record that is full until the test says whether room came. */
class FullSink extends MemorySessionEventSink {
  room: ((ready: boolean) => void) | undefined;
  override hasCapacity(): boolean {
    return false;
  }
  override waitForCapacity(): Promise<boolean> {
    return new Promise((resolve) => (this.room = resolve));
  }
}

describe('a terminal session and its recording', () => {
  it('slows the command\'s output to the recording\'s pace, and ends the session when the record stays behind', async () => {
    const sink = new FullSink();
    const terminal = new TerminalRecorder({ sink, session: { id: 's2' }, protocol: 'kubernetes', resource: { type: 'kubernetes', name: 'prod-cluster' }, decisionId: 'd2', terminal: { cols: 80, rows: 24 } });
    const recorder = new ExecStreamRecorder(terminal);
    assert.equal(recorder.canRecord(), false, 'no terminal session opens on a full record');
    let caughtUp = false;
    const waiting = recorder.keepUp().then(() => (caughtUp = true));
    await Promise.resolve();
    assert.equal(caughtUp, false, 'the relay waits while the record is full');
    sink.room!(true);
    await waiting;
    assert.equal(caughtUp, true);
    const behind = recorder.keepUp();
    sink.room!(false);
    await assert.rejects(behind, RecordingBehindError);
    // Without a terminal nothing waits.
    await new ExecStreamRecorder(undefined).keepUp();
  });
});

describe('port-forward ports', () => {
  it('reads the query\'s ports, repeated or comma-separated, and refuses what is no port', () => {
    assert.equal(queryPorts(''), undefined);
    assert.deepEqual(queryPorts('ports=8080&ports=9090,8080'), [8080, 9090]);
    for (const query of ['ports=0', 'ports=65536', 'ports=080', 'ports=+80', 'ports=80%20', 'ports=', 'ports=1,,2']) assert.throws(() => queryPorts(query), RangeError, query);
    assert.equal(queryWithPort('', 80), 'ports=80');
    assert.equal(queryWithPort('a=b', 80), 'a=b&ports=80');
  });
});
