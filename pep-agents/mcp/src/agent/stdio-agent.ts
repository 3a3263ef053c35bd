import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { LogFunction } from '@portcullis/pep-core';
import { JSON_RPC_ERROR, jsonRpcError } from '../jsonrpc/json-rpc-errors.ts';
import { isRequest, type JsonRpcMessage } from '../jsonrpc/json-rpc-message.ts';
import { readJsonRpcMessage } from '../jsonrpc/json-rpc-reader.ts';
import type { McpSession } from '../session/mcp-session.ts';
import { openMcpSession, type ServerGate, type SessionFactoryDeps } from '../session/session-factory.ts';
import { decideConnect } from './connect-decision.ts';

export interface StdioAgentOptions {
  readonly server: ServerGate;
  readonly sessions: SessionFactoryDeps;
  /** The agent's token (from the environment: a local agent spawns the gateway as it would the server). */
  readonly subjectToken: () => string;
  readonly input: Readable;
  readonly output: Writable;
  readonly maxMessageBytes: number;
  readonly log: LogFunction;
}

/**
 * The gateway spawned by a local agent in place of a stdio MCP server: newline-delimited JSON-RPC
 * on stdin and stdout, read as strictly as over HTTP. One session: the connect decision at
 * initialize (before the server starts), then the router. Ends when stdin ends.
 */
export class StdioAgent {
  private session: McpSession | undefined;
  private readonly sessionId = randomUUID();
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  /** Bytes of an oversize line still to skip, up to its newline. */
  private skipping = false;
  private queue: Promise<void> = Promise.resolve();
  readonly done: Promise<void>;

  constructor(private readonly options: StdioAgentOptions) {
    this.done = new Promise((resolve) => {
      options.input.on('data', (chunk: Buffer) => this.onData(chunk));
      options.input.once('end', () => resolve(this.close('client-closed')));
      options.input.once('error', () => resolve(this.close('client-closed')));
    });
  }

  async close(reason: string): Promise<void> {
    await this.queue;
    await this.session?.close(reason);
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      this.take(chunk.subarray(start, newline), true);
      start = newline + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start), false);
  }

  private take(part: Buffer, lineEnds: boolean): void {
    if (!this.skipping) {
      this.buffered.push(part);
      this.bufferedBytes += part.length;
      if (this.bufferedBytes > this.options.maxMessageBytes) {
        this.buffered = [];
        this.bufferedBytes = 0;
        this.skipping = true;
        this.write(jsonRpcError(null, JSON_RPC_ERROR.invalidRequest, `portcullis: the message is larger than ${this.options.maxMessageBytes} bytes`));
      }
    }
    if (!lineEnds) return;
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    const line = Buffer.concat(this.buffered);
    this.buffered = [];
    this.bufferedBytes = 0;
    if (line.toString('utf8').trim() === '') return;
    const read = readJsonRpcMessage(line, this.options.maxMessageBytes);
    if ('error' in read) return this.write(read.error);
    // One message at a time reaches the session in the order sent; its requests then run side by side.
    this.queue = this.queue.then(() => this.dispatch(read.message));
  }

  private async dispatch(message: JsonRpcMessage): Promise<void> {
    if (this.session !== undefined) {
      void this.session.handleAgentMessage(message);
      return;
    }
    if (!isRequest(message) || message.method !== 'initialize') {
      if (isRequest(message)) this.write(jsonRpcError(message.id, JSON_RPC_ERROR.invalidRequest, 'portcullis: initialize the session first'));
      return;
    }
    const session = { id: this.sessionId };
    const token = this.options.subjectToken();
    const verdict = await decideConnect(this.options.server.authorizer, token, session);
    if (!verdict.allowed) {
      const code = verdict.refusal.kind === 'unauthenticated' ? JSON_RPC_ERROR.unauthenticated : verdict.refusal.kind === 'unavailable' ? JSON_RPC_ERROR.internalError : JSON_RPC_ERROR.refused;
      this.write(jsonRpcError(message.id, code, verdict.refusal.hint ? `${verdict.refusal.message}; ${verdict.refusal.hint}` : verdict.refusal.message));
      return;
    }
    this.session = openMcpSession(this.options.server, session, token, { send: async (outgoing) => this.write(outgoing) }, this.options.sessions, verdict.answer);
    this.options.log('MCP session opened', { session: this.sessionId, server: this.options.server.config.name });
    void this.session.handleAgentMessage(message);
  }

  private write(message: JsonRpcMessage): void {
    this.options.output.write(`${JSON.stringify(message)}\n`);
  }
}
