// WebSocket frames and the Kubernetes channel protocols, read from byte streams cut at every
// offset: what the PEP records of an exec is what the frames carried, whatever the TCP chunking.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelProtocol, ChannelProtocolError, readChannelMessage, writeChannelMessage } from '../src/upgrades/channel-protocol.ts';
import { closeFramePayload, encodeWebSocketFrame, WebSocketProtocolError, WebSocketReader, WS_OPCODE, type WebSocketEvent } from '../src/upgrades/websocket-frames.ts';

const LIMIT = 1 << 20;

function readAll(bytes: Buffer, masked: boolean, cut: number[]): WebSocketEvent[] {
  const reader = new WebSocketReader({ masked, maxMessageBytes: LIMIT });
  const events: WebSocketEvent[] = [];
  let start = 0;
  for (const end of [...cut, bytes.length]) {
    events.push(...reader.push(bytes.subarray(start, end)));
    start = end;
  }
  assert.equal(reader.pendingBytes, 0);
  return events;
}

/** A frame with chosen FIN and opcode (encodeWebSocketFrame writes only final frames). */
function frame(fin: boolean, opcode: number, payload: Buffer, masked: boolean): Buffer {
  const whole = encodeWebSocketFrame(opcode, payload, masked);
  whole[0] = (fin ? 0x80 : 0) | opcode;
  return whole;
}

describe('WebSocket frames', () => {
  it('reads masked client frames and unmasked server frames of every length form, cut at every offset', () => {
    for (const masked of [true, false]) {
      const payloads = [Buffer.alloc(0), Buffer.from('hi'), Buffer.alloc(125, 1), Buffer.alloc(126, 2), Buffer.alloc(70_000, 3)];
      const stream = Buffer.concat(payloads.map((payload) => encodeWebSocketFrame(WS_OPCODE.binary, payload, masked)));
      const expected = payloads.map((data) => ({ kind: 'message', opcode: WS_OPCODE.binary, data }));
      assert.deepEqual(readAll(stream, masked, []), expected);
      for (const cut of [1, 2, 3, 5, 9, 130, 140, 200, 300]) assert.deepEqual(readAll(stream, masked, [cut]), expected, `cut at ${cut}`);
      // One byte at a time.
      assert.deepEqual(readAll(stream, masked, Array.from({ length: stream.length - 1 }, (_, index) => index + 1)), expected);
    }
  });

  it('joins fragments into one message and passes control frames between them', () => {
    const stream = Buffer.concat([
      frame(false, WS_OPCODE.text, Buffer.from('he'), true),
      frame(true, WS_OPCODE.ping, Buffer.from('p'), true),
      frame(false, WS_OPCODE.continuation, Buffer.from('ll'), true),
      frame(true, WS_OPCODE.continuation, Buffer.from('o'), true),
      frame(true, WS_OPCODE.close, closeFramePayload(1000, 'bye'), true),
    ]);
    const events = readAll(stream, true, [3, 11]);
    assert.deepEqual(events, [
      { kind: 'control', opcode: WS_OPCODE.ping, data: Buffer.from('p') },
      { kind: 'message', opcode: WS_OPCODE.text, data: Buffer.from('hello') },
      { kind: 'control', opcode: WS_OPCODE.close, data: closeFramePayload(1000, 'bye') },
    ]);
  });

  it('refuses what RFC 6455 forbids instead of guessing a reading', () => {
    const cases: [string, Buffer, boolean][] = [
      ['unmasked client frame', encodeWebSocketFrame(WS_OPCODE.binary, Buffer.from('x'), false), true],
      ['masked server frame', encodeWebSocketFrame(WS_OPCODE.binary, Buffer.from('x'), true), false],
      ['reserved bit (compression never negotiated)', Buffer.from([0xc2, 0x01, 0x78]), false],
      ['unknown opcode', Buffer.from([0x83, 0x00]), false],
      ['fragmented control frame', Buffer.from([0x09, 0x00]), false],
      ['continuation of nothing', Buffer.from([0x80, 0x00]), false],
      ['message inside a message', Buffer.concat([frame(false, 2, Buffer.from('a'), false), frame(true, 2, Buffer.from('b'), false)]), false],
      ['frame after close', Buffer.concat([frame(true, 8, Buffer.alloc(0), false), frame(true, 2, Buffer.from('b'), false)]), false],
      ['64-bit length past the limit', Buffer.from([0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 0]), false],
    ];
    for (const [name, bytes, masked] of cases) {
      assert.throws(() => new WebSocketReader({ masked, maxMessageBytes: LIMIT }).push(bytes), WebSocketProtocolError, name);
    }
    const small = new WebSocketReader({ masked: false, maxMessageBytes: 4 });
    assert.throws(() => small.push(Buffer.concat([frame(false, 2, Buffer.from('abc'), false), frame(true, 0, Buffer.from('de'), false)])), /larger than allowed/);
  });
});

describe('the Kubernetes channel protocols', () => {
  it('knows the binary and base64 forms of every version, and nothing else', () => {
    assert.deepEqual(channelProtocol('v5.channel.k8s.io'), { name: 'v5.channel.k8s.io', version: 5, encoding: 'binary' });
    assert.deepEqual(channelProtocol('v4.base64.channel.k8s.io'), { name: 'v4.base64.channel.k8s.io', version: 4, encoding: 'base64' });
    assert.deepEqual(channelProtocol('channel.k8s.io'), { name: 'channel.k8s.io', version: 1, encoding: 'binary' });
    assert.deepEqual(channelProtocol('base64.channel.k8s.io'), { name: 'base64.channel.k8s.io', version: 1, encoding: 'base64' });
    for (const name of ['v6.channel.k8s.io', 'SPDY/3.1+portforward.k8s.io', 'portforward.k8s.io', 'v5.channel.k8s.io ', 'V5.channel.k8s.io', 'xchannel.k8s.io']) {
      assert.equal(channelProtocol(name), undefined, name);
    }
  });

  it('reads and writes a message of each encoding', () => {
    const binary = channelProtocol('v5.channel.k8s.io')!;
    const base64 = channelProtocol('base64.channel.k8s.io')!;
    for (const protocol of [binary, base64]) {
      const written = writeChannelMessage(protocol, 1, Buffer.from('out\x00put'));
      assert.deepEqual(readChannelMessage(protocol, { opcode: written.opcode, data: written.payload }), { channel: 1, data: Buffer.from('out\x00put') });
    }
    assert.deepEqual(writeChannelMessage(base64, 0, Buffer.from('ls')).payload, Buffer.from('0bHM='));
    assert.equal(readChannelMessage(binary, { opcode: 2, data: Buffer.alloc(0) }), undefined);
    assert.deepEqual(readChannelMessage(binary, { opcode: 2, data: Buffer.from([255, 0]) }), { channel: 255, data: Buffer.from([0]) });
  });

  it('refuses a message its protocol cannot carry', () => {
    const binary = channelProtocol('v4.channel.k8s.io')!;
    const base64 = channelProtocol('v4.base64.channel.k8s.io')!;
    assert.throws(() => readChannelMessage(binary, { opcode: 1, data: Buffer.from('0') }), ChannelProtocolError);
    assert.throws(() => readChannelMessage(base64, { opcode: 2, data: Buffer.from('0') }), ChannelProtocolError);
    assert.throws(() => readChannelMessage(base64, { opcode: 1, data: Buffer.from('x') }), /channel digit/);
    assert.throws(() => readChannelMessage(base64, { opcode: 1, data: Buffer.from('1a$b=') }), /not valid base64/);
    assert.throws(() => writeChannelMessage(base64, 255, Buffer.alloc(0)), /no base64 form/);
  });
});
