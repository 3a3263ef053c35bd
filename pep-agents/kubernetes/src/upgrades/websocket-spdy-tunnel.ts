// kubectl's port-forward over WebSocket (subprotocol `SPDY/3.1+portforward.k8s.io`): a SPDY
// session whose bytes ride in binary WebSocket messages, cut anywhere. The PEP unwraps each
// direction, runs the SPDY session relay on it (so every stream's port is checked), and wraps
// what it sends in messages of its own: masked toward the API server, as a client must.
import type { SpdySessionRelay } from './spdy-session-relay.ts';
import { encodeWebSocketFrame, WebSocketProtocolError, WebSocketReader, WS_OPCODE } from './websocket-frames.ts';

export const SPDY_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

export interface WebSocketSpdyTunnelOptions {
  readonly maxMessageBytes: number;
  readonly toClient: (bytes: Buffer) => Promise<void>;
  readonly toServer: (bytes: Buffer) => Promise<void>;
}

/** Wraps SPDY bytes for each side; the relay given to `attach` sends through `clientBound`/`serverBound`. */
export class WebSocketSpdyTunnel {
  private readonly client: WebSocketReader;
  private readonly server: WebSocketReader;
  private relay: SpdySessionRelay | undefined;

  constructor(private readonly options: WebSocketSpdyTunnelOptions) {
    this.client = new WebSocketReader({ masked: true, maxMessageBytes: options.maxMessageBytes });
    this.server = new WebSocketReader({ masked: false, maxMessageBytes: options.maxMessageBytes });
  }

  attach(relay: SpdySessionRelay): void {
    this.relay = relay;
  }

  /** SPDY bytes the relay sends the client, in one server-side (unmasked) message. */
  clientBound = (bytes: Buffer): Promise<void> => this.options.toClient(encodeWebSocketFrame(WS_OPCODE.binary, bytes, false));

  /** SPDY bytes the relay sends the API server, in one client-side (masked) message. */
  serverBound = (bytes: Buffer): Promise<void> => this.options.toServer(encodeWebSocketFrame(WS_OPCODE.binary, bytes, true));

  async fromClient(chunk: Buffer): Promise<void> {
    for (const event of this.client.push(chunk)) {
      if (event.kind === 'control') await this.options.toServer(encodeWebSocketFrame(event.opcode, event.data, true));
      else if (event.opcode !== WS_OPCODE.binary) throw new WebSocketProtocolError('a text message in the SPDY tunnel');
      else await this.spdy().fromClient(event.data);
    }
  }

  async fromServer(chunk: Buffer): Promise<void> {
    for (const event of this.server.push(chunk)) {
      if (event.kind === 'control') await this.options.toClient(encodeWebSocketFrame(event.opcode, event.data, false));
      else if (event.opcode !== WS_OPCODE.binary) throw new WebSocketProtocolError('a text message in the SPDY tunnel');
      else await this.spdy().fromServer(event.data);
    }
  }

  private spdy(): SpdySessionRelay {
    if (this.relay === undefined) throw new Error('the tunnel has no SPDY relay attached');
    return this.relay;
  }
}
