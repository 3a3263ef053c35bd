import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { isResponse, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse, type RequestId } from '../jsonrpc/json-rpc-message.ts';
import { UpstreamUnavailableError } from './upstream-error.ts';

export interface UpstreamConnectionOptions {
  readonly server: string;
  /** How long the server may take to answer one request. */
  readonly timeoutMs: number;
  /** How long starting the process or reaching the URL may take. */
  readonly connectMs: number;
  /** A request or notification the server sent (sampling, elicitation, roots, progress, logs …). */
  readonly onServerMessage: (message: JsonRpcRequest | JsonRpcNotification) => void;
  /** The connection ended (the process exited, the stream failed) other than by `close()`. */
  readonly onEnd: (reason: string) => void;
}

interface Pending {
  readonly resolve: (response: JsonRpcResponse) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The gateway's side of one upstream MCP connection. Requests go out under the gateway's own ids
 * (the agent's ids, and the gateway's own tools/list, never collide) and each waits within a
 * timeout; when the connection ends, every request waiting fails at once: errors, never hangs.
 */
export class UpstreamConnection {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ended: string | undefined;
  private closing = false;

  constructor(
    private readonly transport: Transport,
    private readonly options: UpstreamConnectionOptions,
  ) {
    transport.onmessage = (message) => this.onMessage(message as JsonRpcMessage);
    transport.onclose = () => this.end(`the MCP server ${options.server} ended the connection`);
    // Errors reading or sending: a request they concern fails on its own; the connection may go on.
    transport.onerror = () => undefined;
  }

  /** Starts the process or prepares the HTTP client. */
  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UpstreamUnavailableError(`the MCP server ${this.options.server} did not start in time`)), this.options.connectMs);
    });
    try {
      await Promise.race([this.transport.start(), timeout]);
    } catch (error) {
      this.end(`the MCP server ${this.options.server} could not be started`);
      throw error instanceof UpstreamUnavailableError ? error : new UpstreamUnavailableError(`the MCP server ${this.options.server} could not be started`);
    } finally {
      clearTimeout(timer);
    }
  }

  get endedBecause(): string | undefined {
    return this.ended;
  }

  /** Sends a request (its id replaced by the gateway's) and waits for the server's answer. */
  request(request: Omit<JsonRpcRequest, 'id' | 'jsonrpc'>, signal?: AbortSignal): Promise<JsonRpcResponse> {
    if (this.ended !== undefined) return Promise.reject(new UpstreamUnavailableError(this.ended));
    const id = this.nextId++;
    const outgoing: JsonRpcRequest = { jsonrpc: '2.0', id, method: request.method, ...(request.params === undefined ? {} : { params: request.params }) };
    return new Promise<JsonRpcResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.cancel(id, 'timed out at the gateway');
        reject(new UpstreamUnavailableError(`the MCP server ${this.options.server} did not answer within ${Math.round(this.options.timeoutMs / 1000)} s`));
      }, this.options.timeoutMs);
      const onAbort = (): void => {
        const waiting = this.pending.get(id);
        if (waiting === undefined) return;
        this.pending.delete(id);
        clearTimeout(waiting.timer);
        this.cancel(id, 'cancelled by the client');
        reject(new UpstreamUnavailableError('cancelled by the client'));
      };
      this.pending.set(id, {
        resolve: (response) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(response);
        },
        reject,
        timer,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.transport.send(outgoing as JSONRPCMessage).catch((error: unknown) => this.fail(id, `the MCP server ${this.options.server} could not be reached (${error instanceof Error ? error.message : String(error)})`));
    });
  }

  /** A notification or an answer to one of the server's requests. */
  send(message: JsonRpcNotification | JsonRpcResponse): Promise<void> {
    if (this.ended !== undefined) return Promise.resolve();
    return this.transport.send(message as JSONRPCMessage).catch(() => undefined);
  }

  /** The protocol version the server agreed at initialize (HTTP sends it on every request after). */
  setProtocolVersion(version: string): void {
    this.transport.setProtocolVersion?.(version);
  }

  async close(): Promise<void> {
    const wasOpen = this.ended === undefined;
    this.closing = true;
    this.end(`the session with ${this.options.server} was closed`);
    // An HTTP server keeps a session until told it ended (DELETE); a stdio server's process ends with its stdin.
    const terminate = (this.transport as Transport & { terminateSession?: () => Promise<void> }).terminateSession;
    if (wasOpen && terminate !== undefined && this.transport.sessionId !== undefined) await withinTime(terminate.call(this.transport), this.options.connectMs);
    await this.transport.close().catch(() => undefined);
  }

  private onMessage(message: JsonRpcMessage): void {
    if (isResponse(message)) {
      if (typeof message.id !== 'number') return;
      const waiting = this.pending.get(message.id);
      if (waiting === undefined) return;
      this.pending.delete(message.id);
      clearTimeout(waiting.timer);
      waiting.resolve(message);
      return;
    }
    this.options.onServerMessage(message);
  }

  private cancel(id: RequestId, reason: string): void {
    void this.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
  }

  private fail(id: number, reason: string): void {
    const waiting = this.pending.get(id);
    if (waiting === undefined) return;
    this.pending.delete(id);
    clearTimeout(waiting.timer);
    waiting.reject(new UpstreamUnavailableError(reason));
  }

  private end(reason: string): void {
    if (this.ended !== undefined) return;
    this.ended = reason;
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new UpstreamUnavailableError(reason));
      this.pending.delete(id);
    }
    if (!this.closing) this.options.onEnd(reason);
  }
}

/** Waits for `work` at most `ms`; a failure or a delay is not the caller's concern (it is ending anyway). */
async function withinTime(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
