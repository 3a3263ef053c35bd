import type { ConsoleServerMessageV1 } from '@portcullis/contract';
import type { WebSocket } from 'ws';
import type { ApprovalBroker } from '../../approvals/approval-broker.ts';
import { compareEventIds, isEventId } from '../../approvals/approval-event-log.ts';
import type { ApprovalEvent, ApprovalRecord } from '../../approvals/approval-store.ts';
import { ApprovalStoreUnavailableError } from '../../approvals/approval-store-unavailable-error.ts';
import { approvalRecordView, type ApprovalRecordView } from '../../approvals/approval-view.ts';
import { readResourceBinding, type ResourceBinding } from '../../identity/resource-binding.ts';
import type { TokenVerifier, VerifiedPrincipal } from '../../identity/token-verifier.ts';
import { PROTOCOL_VERSION, ProtocolError, parseClientMessage, type ClientMessage } from './approval-socket-protocol.ts';

export interface SocketSessionOptions {
  readonly broker: ApprovalBroker;
  /** Console sessions (the console audience): watch, vote, wait. */
  readonly verifier: TokenVerifier;
  /** PEP tokens (the API audience, role `pepRole`): wait on approvals for the resources they front, nothing else. */
  readonly pepVerifier: TokenVerifier;
  readonly pepResourcesClaim: string;
  readonly consoleRoles: readonly string[];
  readonly pepRole: string;
  readonly heartbeatMs: number;
  readonly authTimeoutMs: number;
  /** Unsent bytes a client may fall behind by before it is closed (it resumes on reconnect). */
  readonly maxBufferedBytes: number;
  /** Concurrent `wait`s one connection may hold. */
  readonly maxWaits: number;
  /** Open connections, in all and per principal (by subject); beyond them a connection is closed. */
  readonly maxSockets: number;
  readonly maxSocketsPerPrincipal: number;
  /** Approvals per queue page (snapshot and `page`). */
  readonly pageSize: number;
  /** An action's text in listed approvals (pages, events, history) is cut after this many characters. */
  readonly listedActionChars: number;
  /** Counts connections per principal: false from admit refuses this one (released on close). */
  readonly principals?: { admit(sub: string): boolean; release(sub: string): void };
  readonly log: (message: string) => void;
}

/** Close codes (4000–4999 are the application's): stable, documented in docs/approvals-protocol.md. */
export const CLOSE = {
  authFailed: 4401,
  forbidden: 4403,
  tokenInUrl: 4400,
  tooManyConnections: 4429,
  slowConsumer: 4008,
  tokenExpired: 4402,
  heartbeatMissed: 4009,
  shuttingDown: 1001,
} as const;

const BACKFILL_PAGE = 500;
const MAX_BACKFILL = 10_000;

/**
 * One approver's or PEP's connection: authenticates, then serves the queue with live events
 * (resuming after the last event id the client saw), votes, and waits on single approvals.
 */
export class ApprovalSocketSession {
  #principal: VerifiedPrincipal | undefined;
  /** Set when a PEP authenticated: the resources whose approvals it may wait on. */
  #pepBinding: ResourceBinding | undefined;
  #unsubscribe: (() => void) | undefined;
  /** The id of the last event sent, for ordering and duplicate suppression. */
  #cursor: string | undefined;
  /** Live events that arrive while a backfill is being sent. */
  #pendingLive: ApprovalEvent[] | undefined;
  /** Waited-on approvals → what to do on their changes, behind one store subscription. */
  readonly #waits = new Map<string, (record: ApprovalRecord) => void>();
  #waitSubscription: (() => void) | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #alive = true;
  #closed = false;
  /** The subject this connection counts against, once admitted. */
  #admitted: string | undefined;
  /** Messages are handled one at a time, in the order they came: a vote never overtakes its subscribe. */
  #inbox: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: WebSocket,
    private readonly options: SocketSessionOptions,
    headerToken: string | undefined,
  ) {
    socket.on('message', (data, isBinary) => {
      const raw = isBinary ? null : data.toString();
      this.#inbox = this.#inbox.then(() => this.#onMessage(raw));
    });
    socket.on('pong', () => {
      this.#alive = true;
    });
    socket.on('close', () => this.#dispose());
    socket.on('error', () => this.#dispose());
    this.#timers.push(setInterval(() => this.#heartbeat(), options.heartbeatMs).unref());
    // Header authentication goes first in the inbox: messages sent right after the handshake wait for it.
    if (headerToken !== undefined) this.#inbox = this.#authenticate(headerToken);
    else this.#timers.push(setTimeout(() => this.#principal === undefined && this.#close(CLOSE.authFailed, 'authenticate within the time allowed'), options.authTimeoutMs).unref());
  }

  async #onMessage(raw: string | null): Promise<void> {
    let message: ClientMessage;
    try {
      if (raw === null) throw new ProtocolError('invalid-message', 'binary frames are not part of the protocol');
      message = parseClientMessage(raw);
    } catch (error) {
      this.#sendError(error);
      return;
    }
    if (message.type === 'auth') {
      if (this.#principal !== undefined) this.#sendError(new ProtocolError('invalid-message', 'already authenticated'));
      else await this.#authenticate(message.token);
      return;
    }
    if (this.#principal === undefined) {
      this.#close(CLOSE.authFailed, 'the first message must be auth');
      return;
    }
    try {
      await this.#handle(message, this.#principal);
    } catch (error) {
      if (error instanceof ApprovalStoreUnavailableError) {
        this.#sendError(new ProtocolError('approvals-unavailable', 'the approval store cannot be reached; try again', 'request_id' in message ? message.request_id : undefined));
      } else if (error instanceof ProtocolError) {
        this.#sendError(error);
      } else {
        this.options.log(`approvals socket: ${(error as Error).message}`);
        this.#sendError(new ProtocolError('internal', 'the server failed to handle the message', 'request_id' in message ? message.request_id : undefined));
      }
    }
  }

  async #authenticate(token: string): Promise<void> {
    let result = await this.options.verifier.verify(token);
    if (!result.ok && result.code === 'token-wrong-audience') {
      // Not a console session: a PEP's token may wait on approvals for the resources it fronts.
      const asPep = await this.options.pepVerifier.verify(token);
      if (asPep.ok) {
        if (!asPep.principal.roles.includes(this.options.pepRole)) {
          this.#close(CLOSE.forbidden, 'an agent token cannot use the approvals socket: sign in to the console for a console session');
          return;
        }
        const binding = readResourceBinding(asPep.principal.claims[this.options.pepResourcesClaim], this.options.pepResourcesClaim);
        if (!binding.ok) {
          this.#close(CLOSE.forbidden, binding.message);
          return;
        }
        this.#pepBinding = binding.binding;
        result = asPep;
      }
    }
    if (!result.ok) {
      this.#close(CLOSE.authFailed, `the token was refused (${result.code})`);
      return;
    }
    const principal = result.principal;
    const canWatch = this.#pepBinding === undefined && principal.roles.some((role) => this.options.consoleRoles.includes(role));
    const canWait = canWatch || this.#pepBinding !== undefined;
    if (!canWatch && !canWait) {
      this.#close(CLOSE.forbidden, `the token lacks a role for approvals (${[...this.options.consoleRoles, this.options.pepRole].join(', ')})`);
      return;
    }
    if (this.options.principals !== undefined) {
      if (!this.options.principals.admit(principal.sub)) {
        this.#close(CLOSE.tooManyConnections, `at most ${this.options.maxSocketsPerPrincipal} connections per principal`);
        return;
      }
      this.#admitted = principal.sub;
    }
    this.#principal = principal;
    if (principal.exp !== undefined) {
      // A connection lives no longer than the token that opened it.
      const remaining = principal.exp * 1000 - Date.now();
      this.#timers.push(setTimeout(() => this.#close(CLOSE.tokenExpired, 'the token expired; reconnect with a fresh one and resume'), Math.max(0, Math.min(remaining, 2 ** 31 - 1))).unref());
    }
    this.#send({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      principal: { sub: principal.sub, iss: principal.iss, kind: principal.kind, roles: principal.roles },
      can_watch: canWatch,
      heartbeat_ms: this.options.heartbeatMs,
    });
  }

  async #handle(message: ClientMessage, principal: VerifiedPrincipal): Promise<void> {
    const { broker } = this.options;
    switch (message.type) {
      case 'ping':
        this.#send({ type: 'pong', ...(message.request_id ? { request_id: message.request_id } : {}) });
        return;
      case 'subscribe':
        this.#requireWatcher(principal);
        await this.#subscribe(message.resume_from);
        return;
      case 'history': {
        this.#requireWatcher(principal);
        const resolved = await broker.recentResolved(message.limit ?? 50);
        this.#send({ type: 'history', ...(message.request_id ? { request_id: message.request_id } : {}), resolved: resolved.map((record) => this.#listed(record)) });
        return;
      }
      case 'page': {
        this.#requireWatcher(principal);
        const { pending, next_page } = await this.#page(message.page, message.request_id);
        this.#send({ type: 'page', ...(message.request_id ? { request_id: message.request_id } : {}), pending, ...(next_page === undefined ? {} : { next_page }) });
        return;
      }
      case 'get': {
        this.#requireWatcher(principal);
        const record = await broker.get(message.approval_id);
        if (record === undefined) throw new ProtocolError('not-found', `no approval ${message.approval_id}`, message.request_id);
        // The whole record: what a list shortened, in full.
        this.#send({ type: 'record', ...(message.request_id ? { request_id: message.request_id } : {}), approval: approvalRecordView(record) });
        return;
      }
      case 'vote': {
        if (this.#pepBinding !== undefined) throw new ProtocolError('forbidden', 'a PEP credential cannot vote: votes need a console session', message.request_id);
        const result = await broker.vote(message.approval_id, { sub: principal.sub, iss: principal.iss, kind: principal.kind, roles: principal.roles }, message.verdict, message.reason);
        this.#send(
          result.ok
            ? { type: 'vote_result', request_id: message.request_id ?? null, ok: true, approval: this.#listed(result.record) }
            : { type: 'vote_result', request_id: message.request_id ?? null, ok: false, code: result.code, message: result.message },
        );
        return;
      }
      case 'wait':
        await this.#wait(message.approval_id, message.request_id);
        return;
    }
  }

  #requireWatcher(principal: VerifiedPrincipal): void {
    if (this.#pepBinding !== undefined) throw new ProtocolError('forbidden', 'a PEP credential may only wait on approvals for its resources: watching the queue needs a console session');
    if (!principal.roles.some((role) => this.options.consoleRoles.includes(role))) {
      throw new ProtocolError('forbidden', `watching the queue needs one of the roles: ${this.options.consoleRoles.join(', ')}`);
    }
  }

  async #subscribe(resumeFrom: string | undefined): Promise<void> {
    if (this.#unsubscribe !== undefined) throw new ProtocolError('invalid-message', 'already subscribed');
    const { broker } = this.options;
    // Live events are held back until the snapshot or backfill is out, then sent in log order.
    this.#pendingLive = [];
    this.#unsubscribe = broker.subscribe((event) => {
      if (this.#pendingLive !== undefined) this.#pendingLive.push(event);
      else this.#sendEvent(event);
    });
    try {
      if (resumeFrom !== undefined && isEventId(resumeFrom) && (await this.#backfill(resumeFrom))) {
        this.#send({ type: 'resumed', cursor: this.#cursor ?? resumeFrom });
      } else {
        // The first page of the queue; the client asks for the next ones (`page`) as it needs them.
        const snapshot = await this.#page(undefined, undefined);
        this.#cursor = snapshot.cursor;
        this.#send({ type: 'snapshot', ...snapshot, ...(resumeFrom !== undefined ? { resync: true } : {}) });
      }
    } catch (error) {
      this.#unsubscribe();
      this.#unsubscribe = undefined;
      this.#pendingLive = undefined;
      throw error;
    }
    const held = this.#pendingLive;
    this.#pendingLive = undefined;
    for (const event of held) this.#sendEvent(event);
  }

  /** Sends what the client missed; false when the log no longer reaches back (send a snapshot). */
  async #backfill(from: string): Promise<boolean> {
    let cursor = from;
    let sent = 0;
    for (;;) {
      const page = await this.options.broker.eventsSince(cursor, BACKFILL_PAGE);
      if (!page.complete) return false;
      this.#cursor = cursor;
      for (const event of page.events) this.#sendEvent(event);
      sent += page.events.length;
      if (page.events.length < BACKFILL_PAGE) return true;
      if (sent >= MAX_BACKFILL) return false;
      cursor = page.events[page.events.length - 1]!.id;
    }
  }

  async #wait(approvalId: string, requestId: string | undefined): Promise<void> {
    if (this.#waits.size >= this.options.maxWaits) throw new ProtocolError('too-many-waits', `at most ${this.options.maxWaits} waits per connection`, requestId);
    if (this.#waits.has(approvalId)) throw new ProtocolError('invalid-message', `already waiting on ${approvalId}`, requestId);
    const { broker } = this.options;
    let lastVersion = 0;
    const binding = this.#pepBinding;
    const deliver = (record: ApprovalRecord): void => {
      if (record.version <= lastVersion) return;
      // A PEP never hears of approvals for resources it does not front.
      if (binding !== undefined && !binding.fronts(record.resource)) return;
      lastVersion = record.version;
      const final = record.status !== 'pending';
      this.#send({ type: 'approval', ...(requestId ? { request_id: requestId } : {}), final, approval: this.#listed(record) });
      if (final) this.#waits.delete(approvalId);
    };
    // Registered before the first read, so no change between the two is missed.
    this.#waitSubscription ??= broker.subscribe((event) => this.#waits.get(event.record.id)?.(event.record));
    this.#waits.set(approvalId, deliver);
    try {
      const current = await broker.get(approvalId);
      if (current === undefined) throw new ProtocolError('not-found', `no approval ${approvalId}`, requestId);
      if (binding !== undefined && !binding.fronts(current.resource)) {
        throw new ProtocolError('forbidden', `this PEP credential does not front ${current.resource.type} ${current.resource.name}`, requestId);
      }
      deliver(current);
    } catch (error) {
      this.#waits.delete(approvalId);
      throw error;
    }
  }

  #sendEvent(event: ApprovalEvent): void {
    if (this.#cursor !== undefined && compareEventIds(event.id, this.#cursor) <= 0) return;
    this.#cursor = event.id;
    this.#send({ type: 'event', id: event.id, event: event.type, approval: this.#listed(event.record) });
  }

  #send(message: ConsoleServerMessageV1): void {
    if (this.#closed || this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      this.#close(CLOSE.slowConsumer, 'too far behind; reconnect and resume from the last event id');
      return;
    }
    this.socket.send(JSON.stringify(message));
  }

  #sendError(error: unknown): void {
    const known = error instanceof ProtocolError ? error : new ProtocolError('internal', 'unexpected error');
    this.#send({ type: 'error', ...(known.requestId ? { request_id: known.requestId } : {}), code: known.code, message: known.message });
  }

  #heartbeat(): void {
    if (!this.#alive) {
      this.socket.terminate();
      this.#dispose();
      return;
    }
    this.#alive = false;
    if (this.socket.readyState === this.socket.OPEN) this.socket.ping();
  }

  #close(code: number, reason: string): void {
    if (!this.#closed && this.socket.readyState === this.socket.OPEN) this.socket.close(code, reason);
    this.#dispose();
  }

  /** Ends the connection from the server side (shutdown). */
  shutdown(): void {
    this.#close(CLOSE.shuttingDown, 'the server is shutting down');
  }

  #dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#unsubscribe?.();
    this.#waitSubscription?.();
    this.#waits.clear();
    if (this.#admitted !== undefined) this.options.principals?.release(this.#admitted);
  }

  #listed(record: ApprovalRecord): ApprovalRecordView {
    return approvalRecordView(record, { listedActionChars: this.options.listedActionChars });
  }

  /** One page of the queue after `cursor`, as the snapshot's and the `page` message's payload. */
  async #page(cursor: string | undefined, requestId: string | undefined): Promise<{ pending: ApprovalRecordView[]; next_page?: string; cursor: string }> {
    let page;
    try {
      page = await this.options.broker.pendingPage(cursor, this.options.pageSize);
    } catch (error) {
      if (error instanceof RangeError) throw new ProtocolError('invalid-message', 'page must be a next_page cursor', requestId);
      throw error;
    }
    return { cursor: page.eventCursor, pending: page.records.map((record) => this.#listed(record)), ...(page.next === undefined ? {} : { next_page: page.next }) };
  }
}
