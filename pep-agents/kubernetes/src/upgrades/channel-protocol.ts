// The Kubernetes channel protocols carried over WebSocket (`channel.k8s.io` and its versions):
// every message starts with the channel it belongs to, as one byte (binary forms) or one ASCII
// digit followed by base64 (the `base64.` forms, text messages). Which channel means what depends
// on the subresource: exec/attach use stdin, stdout, stderr, error and resize (and, from v5, a
// close signal); port-forward uses a data and an error channel per requested port.

/** Exec and attach channels. */
export const EXEC_CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

export interface ChannelProtocol {
  readonly name: string;
  /** 1 for the unversioned names. */
  readonly version: number;
  readonly encoding: 'binary' | 'base64';
}

const CHANNEL_PROTOCOL = /^(?:v([1-5])\.)?(base64\.)?channel\.k8s\.io$/;

/** The channel protocol a WebSocket subprotocol name denotes, or undefined when it is none the PEP reads. */
export function channelProtocol(name: string): ChannelProtocol | undefined {
  const match = CHANNEL_PROTOCOL.exec(name);
  if (!match) return undefined;
  return { name, version: match[1] === undefined ? 1 : Number(match[1]), encoding: match[2] ? 'base64' : 'binary' };
}

export interface ChannelMessage {
  readonly channel: number;
  readonly data: Buffer;
}

export class ChannelProtocolError extends Error {
  constructor(message: string) {
    super(`channel protocol: ${message}`);
    this.name = 'ChannelProtocolError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** One WebSocket message as its channel and bytes. Throws ChannelProtocolError for what the protocol cannot carry. */
export function readChannelMessage(protocol: ChannelProtocol, message: { readonly opcode: number; readonly data: Buffer }): ChannelMessage | undefined {
  const { data } = message;
  // Empty messages carry nothing (the server may send them as keep-alives).
  if (data.length === 0) return undefined;
  if (protocol.encoding === 'binary') {
    if (message.opcode !== 0x2) throw new ChannelProtocolError('a text message on a binary channel protocol');
    return { channel: data[0]!, data: data.subarray(1) };
  }
  if (message.opcode !== 0x1) throw new ChannelProtocolError('a binary message on a base64 channel protocol');
  const digit = data[0]! - 0x30;
  if (digit < 0 || digit > 9) throw new ChannelProtocolError('a base64 message does not start with its channel digit');
  const text = data.subarray(1).toString('latin1');
  if (text.length % 4 !== 0 || !BASE64.test(text)) throw new ChannelProtocolError('a message is not valid base64');
  return { channel: digit, data: Buffer.from(text, 'base64') };
}

/** One channel message as a WebSocket payload and its opcode (binary 2, text 1). */
export function writeChannelMessage(protocol: ChannelProtocol, channel: number, data: Buffer): { readonly opcode: number; readonly payload: Buffer } {
  if (protocol.encoding === 'binary') return { opcode: 0x2, payload: Buffer.concat([Buffer.of(channel), data]) };
  if (channel > 9) throw new ChannelProtocolError(`channel ${channel} has no base64 form`);
  return { opcode: 0x1, payload: Buffer.from(`${channel}${data.toString('base64')}`, 'latin1') };
}
