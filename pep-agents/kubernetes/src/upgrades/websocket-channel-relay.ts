// Exec, attach and the channel form of port-forward over WebSocket: frames pass between client
// and API server exactly as they came, and the PEP reads each direction to record what went
// through (stdin, stdout, stderr, resizes, the closing status; per-port bytes). The command and
// the ports were decided from the request before the upgrade, and the API server takes them
// from there, so nothing inside the frames needs deciding; a frame the PEP cannot read ends the
// session rather than pass unread.
import { EXEC_CHANNEL, readChannelMessage, type ChannelProtocol } from './channel-protocol.ts';
import type { ExecStreamRecorder } from './exec-stream-recorder.ts';
import type { PortForwardRecorder } from './port-forward-recorder.ts';
import { WebSocketReader } from './websocket-frames.ts';

export type ChannelPurpose =
  | { readonly kind: 'exec'; readonly recorder: ExecStreamRecorder }
  /** Channel 2i carries port i's data, 2i+1 its errors, in the order the query named the ports. */
  | { readonly kind: 'port-forward'; readonly recorder: PortForwardRecorder; readonly ports: readonly number[] };

export class WebSocketChannelRelay {
  private readonly client: WebSocketReader;
  private readonly server: WebSocketReader;

  constructor(
    private readonly protocol: ChannelProtocol,
    private readonly purpose: ChannelPurpose,
    maxMessageBytes: number,
  ) {
    this.client = new WebSocketReader({ masked: true, maxMessageBytes });
    this.server = new WebSocketReader({ masked: false, maxMessageBytes });
    if (purpose.kind === 'port-forward') for (const port of purpose.ports) purpose.recorder.opened(port);
  }

  /** Reads bytes the client sent (to be forwarded as they are). Throws when they are not the protocol. */
  fromClient(chunk: Buffer): void {
    for (const event of this.client.push(chunk)) {
      if (event.kind !== 'message') continue;
      const message = readChannelMessage(this.protocol, event);
      if (message === undefined) continue;
      if (this.purpose.kind === 'port-forward') {
        const port = this.portOf(message.channel);
        if (port !== undefined) this.purpose.recorder.sent(port, message.data.length);
      } else if (message.channel === EXEC_CHANNEL.stdin) this.purpose.recorder.input(message.data);
      else if (message.channel === EXEC_CHANNEL.resize) this.purpose.recorder.resize(message.data);
    }
  }

  /** Reads bytes the API server sent (to be forwarded as they are). */
  fromServer(chunk: Buffer): void {
    for (const event of this.server.push(chunk)) {
      if (event.kind !== 'message') continue;
      const message = readChannelMessage(this.protocol, event);
      if (message === undefined) continue;
      if (this.purpose.kind === 'port-forward') {
        const port = this.portOf(message.channel);
        if (port !== undefined) this.purpose.recorder.received(port, message.data.length);
      } else if (message.channel === EXEC_CHANNEL.stdout || message.channel === EXEC_CHANNEL.stderr) this.purpose.recorder.output(message.data);
      else if (message.channel === EXEC_CHANNEL.error) this.purpose.recorder.statusBytesIn(message.data);
    }
  }

  private portOf(channel: number): number | undefined {
    if (this.purpose.kind !== 'port-forward' || channel % 2 !== 0) return undefined;
    return this.purpose.ports[channel / 2];
  }
}
