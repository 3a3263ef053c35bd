import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { InitializeRequestSchema, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { isRequest, isResponse, type JsonRpcMessage, type JsonRpcRequest, type RequestId } from '../jsonrpc/json-rpc-message.ts';

/** How long an answer may be silent before its stream carries a keep-alive comment (the SDK's interval). */
const KEEP_ALIVE_MS = 15_000;

/**
 * The answer to one agent request still open. Until something other than the response must go
 * out first it is undecided: the response then goes as one `application/json` body (one write).
 * A notification or request the server sends beside it (progress while an approval is held,
 * sampling, logs), or a long silence, turns it into an event stream, as Streamable HTTP lets the
 * server choose per request.
 */
interface OpenAnswer {
  readonly response: ServerResponse;
  stream: boolean;
  keepAlive: NodeJS.Timeout | undefined;
}

/**
 * The server side of Streamable HTTP for one agent session, on Node's own HTTP objects: POSTed
 * messages (already read strictly by the gateway) go to `onmessage`; what the session sends goes
 * on the answer of the request it belongs to, or on the session's GET stream. The checks are the
 * transport's (Accept, Content-Type, session header, protocol version); the gateway did the rest.
 */
export class AgentHttpStreams {
  onmessage: ((message: JsonRpcMessage) => void) | undefined;
  onclose: (() => void) | undefined;
  /** When the session last answered a request (ms): an idle session is idle from its last answer, not its last request. */
  lastAnsweredAt = Date.now();
  private initialized = false;
  private closed = false;
  private readonly answers = new Map<RequestId, OpenAnswer>();
  private standalone: OpenAnswer | undefined;

  constructor(readonly sessionId: string) {}

  /** Whether an initialize was taken (an initialize not in its shape opens nothing). */
  get isInitialized(): boolean {
    return this.initialized;
  }

  handle(request: IncomingMessage, response: ServerResponse, message: JsonRpcMessage | undefined): void {
    if (this.closed) return writeError(response, 404, -32001, 'Session not found');
    if (request.method === 'POST' && message !== undefined) return this.post(request, response, message);
    if (request.method === 'GET') return this.get(request, response);
    if (request.method === 'DELETE') return this.delete(request, response);
    response.setHeader('allow', 'GET, POST, DELETE');
    writeError(response, 405, -32000, 'Method not allowed.');
  }

  /** A message of the session for the agent: on its request's answer, else on the GET stream (dropped when none is open). */
  async send(message: JsonRpcMessage, relatedRequestId?: RequestId): Promise<void> {
    const requestId = isResponse(message) ? (message.id ?? undefined) : relatedRequestId;
    if (requestId === undefined) {
      if (isResponse(message)) throw new Error('a response without an id has no request to answer');
      if (this.standalone !== undefined) writeEvent(this.standalone, message);
      return;
    }
    const answer = this.answers.get(requestId);
    if (answer === undefined) throw new Error(`no open answer for request ${String(requestId)}`);
    if (!isResponse(message)) {
      if (!answer.stream) this.openStream(answer);
      writeEvent(answer, message);
      return;
    }
    this.answers.delete(requestId);
    clearInterval(answer.keepAlive);
    this.lastAnsweredAt = Date.now();
    if (answer.stream) {
      writeEvent(answer, message);
      answer.response.end();
      return;
    }
    const body = JSON.stringify(message);
    answer.response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'mcp-session-id': this.sessionId });
    answer.response.end(body);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const answer of [...this.answers.values(), ...(this.standalone ? [this.standalone] : [])]) {
      clearInterval(answer.keepAlive);
      // An answer that never started is ended as the session is: not found from now on.
      if (answer.response.headersSent) answer.response.end();
      else writeError(answer.response, 404, -32001, 'Session not found');
    }
    this.answers.clear();
    this.standalone = undefined;
    this.onclose?.();
  }

  private post(request: IncomingMessage, response: ServerResponse, message: JsonRpcMessage): void {
    const accept = request.headers.accept ?? '';
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
      return writeError(response, 406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
    }
    if (!isJsonContentType(request.headers['content-type'])) return writeError(response, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
    if (isRequest(message) && message.method === 'initialize' && InitializeRequestSchema.safeParse(message).success) {
      if (this.initialized) return writeError(response, 400, -32600, 'Invalid Request: Server already initialized');
      this.initialized = true;
    } else if (!this.admitted(request, response)) {
      return;
    }
    if (!isRequest(message)) {
      response.writeHead(202).end();
      this.onmessage?.(message);
      return;
    }
    this.open(message, response);
    this.onmessage?.(message);
  }

  private open(message: JsonRpcRequest, response: ServerResponse): void {
    const answer: OpenAnswer = { response, stream: false, keepAlive: undefined };
    // A silent wait (a slow server) still shows the agent the answer is alive.
    answer.keepAlive = setInterval(() => {
      if (!answer.stream) this.openStream(answer);
      answer.response.write(': keepalive\n\n');
    }, KEEP_ALIVE_MS).unref();
    this.answers.set(message.id, answer);
    response.on('close', () => {
      clearInterval(answer.keepAlive);
      if (this.answers.get(message.id) === answer) this.answers.delete(message.id);
    });
  }

  private get(request: IncomingMessage, response: ServerResponse): void {
    if (!(request.headers.accept ?? '').includes('text/event-stream')) return writeError(response, 406, -32000, 'Not Acceptable: Client must accept text/event-stream');
    if (!this.admitted(request, response)) return;
    if (this.standalone !== undefined) return writeError(response, 409, -32000, 'Conflict: Only one SSE stream is allowed per session');
    const answer: OpenAnswer = { response, stream: false, keepAlive: undefined };
    this.openStream(answer);
    answer.keepAlive = setInterval(() => answer.response.write(': keepalive\n\n'), KEEP_ALIVE_MS).unref();
    this.standalone = answer;
    response.on('close', () => {
      clearInterval(answer.keepAlive);
      if (this.standalone === answer) this.standalone = undefined;
    });
  }

  private delete(request: IncomingMessage, response: ServerResponse): void {
    if (!this.admitted(request, response)) return;
    response.writeHead(200).end();
    void this.close();
  }

  /** A request after initialize: the session it names and a protocol version the SDK knows. */
  private admitted(request: IncomingMessage, response: ServerResponse): boolean {
    if (!this.initialized) {
      writeError(response, 400, -32000, 'Bad Request: Server not initialized');
      return false;
    }
    if (request.headers['mcp-session-id'] !== this.sessionId) {
      writeError(response, 404, -32001, 'Session not found');
      return false;
    }
    const version = request.headers['mcp-protocol-version'];
    if (version !== undefined && !(typeof version === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(version))) {
      writeError(response, 400, -32000, `Bad Request: Unsupported protocol version: ${String(version).slice(0, 40)} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`);
      return false;
    }
    return true;
  }

  private openStream(answer: OpenAnswer): void {
    answer.stream = true;
    const headers: OutgoingHttpHeaders = {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'mcp-session-id': this.sessionId,
    };
    answer.response.writeHead(200, headers);
    // Headers go out now: an agent waiting on a held call sees its stream open.
    answer.response.flushHeaders();
  }
}

function writeEvent(answer: OpenAnswer, message: JsonRpcMessage): void {
  answer.response.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
}

function writeError(response: ServerResponse, status: number, code: number, message: string): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function isJsonContentType(header: string | undefined): boolean {
  if (header === 'application/json') return true;
  return (header ?? '').split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}
