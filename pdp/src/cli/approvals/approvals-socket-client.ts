import { WebSocket } from 'ws';
import { compareEventIds } from '../../approvals/approval-event-log.ts';
import type { ApprovalRecordView } from '../../approvals/approval-view.ts';
import { SUBPROTOCOL } from '../../http/ws/approval-socket-protocol.ts';

/** Server → client messages of the approvals protocol v1 (docs/approvals-protocol.md) this client reads. */
export interface Welcome {
  type: 'welcome';
  protocol: number;
  principal: { sub: string; iss: string; roles: string[] };
  can_watch: boolean;
  heartbeat_ms: number;
}
export interface SnapshotMessage { type: 'snapshot'; cursor: string; pending: ApprovalRecordView[]; next_page?: string; resync?: boolean }
export interface PageMessage { type: 'page'; request_id?: string; pending: ApprovalRecordView[]; next_page?: string }
export interface RecordMessage { type: 'record'; request_id?: string; approval: ApprovalRecordView }
export interface EventMessage { type: 'event'; id: string; event: 'requested' | 'updated' | 'resolved'; approval: ApprovalRecordView }
export interface VoteResultMessage { type: 'vote_result'; request_id: string; ok: boolean; approval?: ApprovalRecordView; code?: string; message?: string }
export interface HistoryMessage { type: 'history'; request_id?: string; resolved: ApprovalRecordView[] }

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'live'; welcome: Welcome }
  | { kind: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  | { kind: 'closed'; reason: string; fatal: boolean };

export interface SocketClientHandlers {
  onState?(state: ConnectionState): void;
  /** The queue now (first connect, or `resync` when the log no longer reached back to the cursor). */
  onSnapshot?(snapshot: SnapshotMessage): void;
  /** A change after the cursor; never one already delivered. */
  onEvent?(event: EventMessage): void;
  /** The backfill after a reconnect is complete. */
  onResumed?(cursor: string): void;
}

export interface SocketClientOptions {
  /** The PDP's base URL (http:// or https://); the socket is `/v1/ws` on it. */
  readonly baseUrl: string;
  /** Called for every connection, so a re-read file or a freshly minted token is used. */
  readonly credential: () => Promise<string>;
  /** Subscribe to the queue after each welcome (resuming from the last event seen). */
  readonly subscribe: boolean;
  /** Reconnect after a connection is lost (with backoff); otherwise the first loss ends the client. */
  readonly reconnect: boolean;
  readonly handlers?: SocketClientHandlers;
}

/** A refusal the PDP answered with (`self-approval`, `reason-required` …): its code and message. */
export class ServerRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The connection failed or was closed; `fatal` when retrying cannot help (credential, role, URL). */
export class ConnectionError extends Error {
  constructor(
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
  }
}

/** Close codes after which reconnecting with the same credential cannot succeed. */
const FATAL_CLOSE_CODES = new Map<number, string>([
  [4400, 'the PDP refused a token in the URL'],
  [4401, 'the PDP refused the credential'],
  [4403, 'the credential has no role for approvals'],
]);
const TOKEN_EXPIRED = 4402;
const MAX_BACKOFF_MS = 5000;
const REQUEST_TIMEOUT_MS = 30_000;

interface PendingRequest {
  resolve(message: Record<string, unknown>): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The approvals WebSocket from the client side: authenticates with a bearer header, keeps the
 * queue subscription, remembers the last event id and resumes from it after any reconnect (to
 * any replica), and pairs requests (vote, history) with their answers by request id.
 */
export class ApprovalsSocketClient {
  readonly #options: SocketClientOptions;
  readonly #handlers: SocketClientHandlers;
  readonly #requests = new Map<string, PendingRequest>();
  #socket: WebSocket | undefined;
  #welcome: Welcome | undefined;
  #cursor: string | undefined;
  #attempt = 0;
  #sequence = 0;
  #stopped = false;
  /** The final `closed` state has been reported. */
  #ended = false;
  #liveness: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #first: { resolve(welcome: Welcome): void; reject(error: Error): void } | undefined;

  constructor(options: SocketClientOptions) {
    this.#options = options;
    this.#handlers = options.handlers ?? {};
  }

  /** The id of the last event seen: where a reconnect resumes. */
  get cursor(): string | undefined {
    return this.#cursor;
  }

  get welcome(): Welcome | undefined {
    return this.#welcome;
  }

  /** Resolves at the first welcome; rejects on a fatal refusal (or any failure without reconnect). */
  connect(): Promise<Welcome> {
    return new Promise<Welcome>((resolve, reject) => {
      this.#first = { resolve, reject };
      this.#setState({ kind: 'connecting' });
      void this.#open();
    });
  }

  /** Sends a request and resolves with the answer carrying its request id; refusals reject. */
  request<T>(message: Record<string, unknown>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    const socket = this.#socket;
    if (socket === undefined || this.#welcome === undefined || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ConnectionError('not connected to the PDP', false));
    }
    this.#sequence += 1;
    const requestId = `cli-${this.#sequence}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(requestId);
        reject(new ConnectionError(`the PDP did not answer within ${timeoutMs / 1000} s`, false));
      }, timeoutMs);
      this.#requests.set(requestId, { resolve: (answer) => resolve(answer as T), reject, timer });
      socket.send(JSON.stringify({ ...message, request_id: requestId }));
    });
  }

  /** Closes the connection for good. */
  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearTimeout(this.#liveness);
    this.#failRequests(new ConnectionError('the client closed', false));
    const socket = this.#socket;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000, 'bye');
      setTimeout(() => {
        socket.terminate();
        resolve();
      }, 2000).unref();
    });
  }

  async #open(): Promise<void> {
    let token: string;
    try {
      token = await this.#options.credential();
    } catch (error) {
      this.#fail(new ConnectionError(`no credential: ${(error as Error).message}`, true));
      return;
    }
    if (this.#stopped) return;
    const url = new URL('/v1/ws', this.#options.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url, SUBPROTOCOL, { headers: { authorization: `Bearer ${token}` }, handshakeTimeout: 10_000, perMessageDeflate: false });
    this.#socket = socket;
    this.#welcome = undefined;
    let lastError = '';
    socket.on('message', (data, isBinary) => {
      this.#touch(socket);
      if (!isBinary) this.#onMessage(socket, data.toString());
    });
    socket.on('ping', () => this.#touch(socket));
    socket.on('error', (error) => {
      lastError = error.message;
    });
    socket.on('close', (code, reason) => this.#onClose(socket, code, reason.toString() || lastError || `closed (${code})`));
  }

  #onMessage(socket: WebSocket, raw: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return;
    }
    const requestId = typeof message.request_id === 'string' ? message.request_id : undefined;
    const waiting = requestId === undefined ? undefined : this.#requests.get(requestId);
    if (waiting !== undefined) {
      this.#requests.delete(requestId!);
      clearTimeout(waiting.timer);
      if (message.type === 'error') waiting.reject(new ServerRefusal(String(message.code), String(message.message)));
      else waiting.resolve(message);
      return;
    }
    switch (message.type) {
      case 'welcome':
        this.#onWelcome(socket, message as unknown as Welcome);
        return;
      case 'snapshot': {
        const snapshot = message as unknown as SnapshotMessage;
        this.#cursor = snapshot.cursor;
        this.#handlers.onSnapshot?.(snapshot);
        return;
      }
      case 'event': {
        const event = message as unknown as EventMessage;
        if (this.#cursor !== undefined && compareEventIds(event.id, this.#cursor) <= 0) return;
        this.#cursor = event.id;
        this.#handlers.onEvent?.(event);
        return;
      }
      case 'resumed':
        if (typeof message.cursor === 'string') this.#cursor = message.cursor;
        this.#handlers.onResumed?.(this.#cursor ?? '');
        return;
      case 'error':
        // Not an answer to a request: the subscription itself failed (e.g. the approval store is
        // unreachable). Start over on a new connection, with backoff.
        socket.terminate();
        return;
    }
  }

  #onWelcome(socket: WebSocket, welcome: Welcome): void {
    if (this.#options.subscribe && !welcome.can_watch) {
      this.#fail(new ConnectionError(`${welcome.principal.sub} may not watch the approval queue: the credential needs a console role (approver or auditor)`, true));
      socket.close(1000, 'bye');
      return;
    }
    this.#welcome = welcome;
    this.#attempt = 0;
    this.#touch(socket);
    this.#setState({ kind: 'live', welcome });
    this.#first?.resolve(welcome);
    this.#first = undefined;
    if (this.#options.subscribe) socket.send(JSON.stringify({ type: 'subscribe', ...(this.#cursor === undefined ? {} : { resume_from: this.#cursor }) }));
  }

  /** A server that sends nothing, not even its heartbeat ping, for two intervals is gone. */
  #touch(socket: WebSocket): void {
    clearTimeout(this.#liveness);
    const interval = this.#welcome?.heartbeat_ms ?? 15_000;
    this.#liveness = setTimeout(() => socket.terminate(), interval * 2 + 5000);
    this.#liveness.unref();
  }

  #onClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    clearTimeout(this.#liveness);
    this.#welcome = undefined;
    this.#failRequests(new ConnectionError(`the connection to the PDP was lost (${reason}) before it answered`, false));
    if (this.#stopped) {
      this.#setState({ kind: 'closed', reason, fatal: false });
      return;
    }
    const fatal = FATAL_CLOSE_CODES.get(code);
    const status = /Unexpected server response: (\d+)/.exec(reason)?.[1];
    if (fatal !== undefined) {
      this.#fail(new ConnectionError(`${fatal}: ${reason} (close ${code})`, true));
      return;
    }
    if (status !== undefined && Number(status) >= 400 && Number(status) < 500) {
      this.#fail(new ConnectionError(`${this.#options.baseUrl} answered HTTP ${status} to the WebSocket upgrade: is it a Portcullis PDP?`, true));
      return;
    }
    if (!this.#options.reconnect) {
      this.#fail(new ConnectionError(`cannot reach the PDP at ${this.#options.baseUrl}: ${reason}`, false));
      return;
    }
    this.#attempt += 1;
    // An expired token is replaced at once; anything else backs off, with jitter so a fleet of
    // consoles does not reconnect in step after a PDP restart.
    const backoff = code === TOKEN_EXPIRED ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** (this.#attempt - 1)) * (0.8 + Math.random() * 0.4);
    const delayMs = Math.round(backoff);
    this.#setState({ kind: 'reconnecting', attempt: this.#attempt, delayMs, reason });
    this.#retry = setTimeout(() => void this.#open(), delayMs);
  }

  #fail(error: ConnectionError): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#failRequests(error);
    this.#setState({ kind: 'closed', reason: error.message, fatal: error.fatal });
    this.#first?.reject(error);
    this.#first = undefined;
  }

  #failRequests(error: Error): void {
    for (const request of this.#requests.values()) {
      clearTimeout(request.timer);
      request.reject(error);
    }
    this.#requests.clear();
  }

  #setState(state: ConnectionState): void {
    if (this.#ended) return;
    if (state.kind === 'closed') this.#ended = true;
    this.#handlers.onState?.(state);
  }
}
