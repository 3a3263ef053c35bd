import { Agent as HttpAgent, type ClientRequest, type IncomingMessage, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { readServerMessage } from './server-message-schema.ts';
import { SseEventReader } from './sse-event-reader.ts';

export interface HttpUpstreamOptions {
  readonly url: URL;
  /** Headers every request carries (the gateway's credential for this server). */
  readonly headers: Readonly<Record<string, string>>;
  /** The most one server message may take: a JSON body in bytes, an event in characters. Past it the connection ends. */
  readonly maxMessageBytes: number;
}

/** Times the session's GET stream is opened again after it ends (a server restarting its stream). */
const STREAM_RETRIES = 2;
const STREAM_RETRY_MS = 1000;

/**
 * Keep-alive sockets shared by every session to the same servers (one pool per scheme). An idle
 * socket is let go within 4 s, before a server's usual 5 s keep-alive ends it under a request.
 */
const AGENTS = { 'http:': new HttpAgent({ keepAlive: true, timeout: 4000 }), 'https:': new HttpsAgent({ keepAlive: true, timeout: 4000 }) } as const;

/**
 * The client side of Streamable HTTP to one upstream server, for one gateway session, on Node's
 * own HTTP client: each message is a POST whose answer is read as JSON or as an event stream,
 * whichever the server chose; after `notifications/initialized` a GET stream carries what the
 * server sends on its own. Every message read is checked against the protocol's schema before
 * it is handed on, and one past the bound ends the connection rather than being read whole.
 * Redirects are not followed: the server configured is the one spoken to.
 */
export class HttpUpstreamTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private session: string | undefined;
  private protocolVersion: string | undefined;
  private readonly open = new Set<ClientRequest>();
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: HttpUpstreamOptions) {}

  get sessionId(): string | undefined {
    return this.session;
  }

  async start(): Promise<void> {}

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const body = JSON.stringify(message);
    const response = await this.exchange('POST', { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(body) }, body);
    const session = response.headers['mcp-session-id'];
    if (typeof session === 'string') this.session = session;
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      // The status alone: the body is the server's own text (a stack trace, a record), no JSON-RPC
      // message the gateway masks, and this error's text reaches the agent.
      response.resume();
      throw new Error(`Error POSTing to endpoint (HTTP ${status})`);
    }
    const isRequest = 'method' in message && 'id' in message;
    if (status === 202 || !isRequest) {
      response.resume();
      if ('method' in message && message.method === 'notifications/initialized') this.openStream(0);
      return;
    }
    const type = mediaType(response.headers['content-type']);
    if (type === 'text/event-stream') return this.readEvents(response);
    if (type !== 'application/json') {
      response.resume();
      throw new Error('the server answered with neither JSON nor an event stream');
    }
    const text = await this.readBody(response, this.options.maxMessageBytes);
    const data = parseJson(text);
    if (data === NOT_JSON) throw new Error('the server answered with a body that is not JSON');
    for (const item of Array.isArray(data) ? data : [data]) this.deliver(item);
  }

  /** Tells the server the session ended (DELETE); a server without sessions to end answers 405. */
  async terminateSession(): Promise<void> {
    if (this.session === undefined) return;
    const response = await this.exchange('DELETE', {});
    response.resume();
    const status = response.statusCode ?? 0;
    if ((status < 200 || status >= 300) && status !== 405) throw new Error(`Failed to terminate session (HTTP ${status})`);
    this.session = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const request of this.open) request.destroy();
    this.open.clear();
    this.onclose?.();
  }

  private async exchange(method: string, headers: OutgoingHttpHeaders, body?: string): Promise<IncomingMessage> {
    try {
      return await this.exchangeOnce(method, headers, body);
    } catch (error) {
      // A kept-alive socket the server closed as the request went out: a GET or DELETE is sent once
      // more on a new one. A POST never is: the server may have run it before the socket went
      // (a decided call is one execution), so it fails as unreachable instead.
      if (!(error instanceof ReusedSocketReset) || body !== undefined) throw error;
      return this.exchangeOnce(method, headers, body);
    }
  }

  private exchangeOnce(method: string, headers: OutgoingHttpHeaders, body?: string): Promise<IncomingMessage> {
    if (this.closed) return Promise.reject(new Error('the connection is closed'));
    const { url } = this.options;
    const all: OutgoingHttpHeaders = { ...headers, ...this.options.headers };
    if (this.session !== undefined) all['mcp-session-id'] = this.session;
    if (this.protocolVersion !== undefined) all['mcp-protocol-version'] = this.protocolVersion;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(url, { method, headers: all, agent: url.protocol === 'https:' ? AGENTS['https:'] : AGENTS['http:'] }, (response) => {
        response.once('close', () => this.open.delete(request));
        resolve(response);
      });
      this.open.add(request);
      request.once('error', (error: NodeJS.ErrnoException) => {
        this.open.delete(request);
        reject(request.reusedSocket && error.code === 'ECONNRESET' ? new ReusedSocketReset() : error);
      });
      request.end(body);
    });
  }

  /** A whole body within `maxBytes`; past it the connection ends. */
  private readBody(response: IncomingMessage, maxBytes: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          response.destroy();
          void this.close();
          reject(new Error(`the server sent a message larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      response.once('error', reject);
    });
  }

  /** The messages of an event stream, handed on as each event ends; `onEnd` once the stream is gone. */
  private readEvents(response: IncomingMessage, onEnd?: () => void): void {
    response.setEncoding('utf8');
    const reader = new SseEventReader(this.options.maxMessageBytes, (event) => {
      if (event.event !== 'message') return;
      const data = parseJson(event.data);
      // Named without the text: a parser's message quotes the server's bytes.
      if (data === NOT_JSON) this.onerror?.(new Error('the server sent an event that is not JSON'));
      else this.deliver(data);
    });
    response.on('data', (chunk: string) => {
      if (reader.push(chunk)) return;
      response.destroy();
      this.onerror?.(new Error(`the server sent a message larger than ${this.options.maxMessageBytes} characters`));
      void this.close();
    });
    response.once('error', () => undefined);
    if (onEnd !== undefined) response.once('close', onEnd);
  }

  /** The session's GET stream for what the server sends on its own; opened again a few times if it ends. */
  private openStream(attempt: number): void {
    if (this.closed) return;
    this.exchange('GET', { accept: 'text/event-stream' })
      .then((response) => {
        const status = response.statusCode ?? 0;
        if (status === 405) return void response.resume();
        if (status < 200 || status >= 300 || mediaType(response.headers['content-type']) !== 'text/event-stream') {
          response.resume();
          this.onerror?.(new Error(`Failed to open SSE stream (HTTP ${status})`));
          return;
        }
        this.readEvents(response, () => this.reopen(attempt));
      })
      .catch((error: unknown) => {
        this.onerror?.(error instanceof Error ? error : new Error(String(error)));
        this.reopen(attempt);
      });
  }

  private reopen(attempt: number): void {
    if (this.closed || attempt >= STREAM_RETRIES) return;
    this.retryTimer = setTimeout(() => this.openStream(attempt + 1), STREAM_RETRY_MS);
    this.retryTimer.unref();
  }

  private deliver(value: unknown): void {
    const message = readServerMessage(value);
    if (message === undefined) {
      this.onerror?.(new Error('the server sent a message that is not JSON-RPC'));
      return;
    }
    this.onmessage?.(message);
  }
}

class ReusedSocketReset extends Error {}

const NOT_JSON = Symbol('not JSON');

/** The value of a JSON text, or NOT_JSON (never the parser's error, whose message quotes the text). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';', 1)[0]!.trim().toLowerCase();
}
