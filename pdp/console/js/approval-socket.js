// The console's connection to the approvals WebSocket (protocol v1, docs/approvals-protocol.md):
// authenticates with the first message, subscribes (resuming after the last event seen),
// answers requests by request_id, watches liveness, and reconnects with backoff on any loss.

export const SUBPROTOCOL = 'portcullis.v1';

/** Close codes after which reconnecting with the same token cannot help. */
const FATAL_CLOSE_CODES = new Set([4400, 4401, 4402, 4403]);
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const REQUEST_TIMEOUT_MS = 15000;

export class ApprovalSocket {
  #socket = null;
  /** True once the queue (snapshot or resume) has arrived on the current socket. */
  #subscribed = false;
  #stopped = true;
  #attempt = 0;
  #retryTimer = null;
  #livenessTimer = null;
  #lastHeardAt = 0;
  #heartbeatMs = 15000;
  #nextRequestId = 1;
  #requests = new Map();

  /**
   * options: url, token() → the bearer, resumeFrom() → last event id or null, and handlers
   * onWelcome(msg), onSnapshot(msg), onEvent(msg), onResumed(msg), onServerError(msg),
   * onStatus({state: 'connecting' | 'syncing' | 'live' | 'reconnecting', retryInMs?, attempt?}),
   * onFatal({code, reason}).
   */
  constructor(options) {
    this.options = options;
  }

  get live() {
    return this.#socket !== null && this.#socket.readyState === WebSocket.OPEN && this.#subscribed;
  }

  // The browser knows first when the network goes: drop the socket at once rather than wait
  // for liveness to notice, and come back as soon as it returns.
  #onOffline = () => {
    if (this.#stopped || this.#socket === null) return;
    this.#abandon(4000, 'network offline');
    this.#scheduleReconnect();
  };

  #onOnline = () => this.reconnectNow();

  start() {
    this.#stopped = false;
    window.addEventListener('offline', this.#onOffline);
    window.addEventListener('online', this.#onOnline);
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    window.removeEventListener('offline', this.#onOffline);
    window.removeEventListener('online', this.#onOnline);
    this.#abandon(1000, 'signed out');
  }

  /** Skips the rest of a backoff wait (the browser says the network is back). */
  reconnectNow() {
    if (this.#stopped || this.#socket !== null) return;
    clearTimeout(this.#retryTimer);
    this.#connect();
  }

  /** Sends `message` with a fresh request_id; resolves with the reply that names it. */
  request(message) {
    if (!this.live) return Promise.reject(new Error('not connected'));
    const requestId = `c${this.#nextRequestId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(requestId);
        reject(new Error('no answer from the server'));
      }, REQUEST_TIMEOUT_MS);
      this.#requests.set(requestId, { resolve, reject, timer });
      this.#socket.send(JSON.stringify({ ...message, request_id: requestId }));
    });
  }

  #connect() {
    this.#subscribed = false;
    if (!navigator.onLine) {
      // No network: keep waiting (the online event or the next retry brings us back).
      this.#scheduleReconnect();
      return;
    }
    this.options.onStatus({ state: this.#attempt === 0 ? 'connecting' : 'reconnecting', attempt: this.#attempt });
    let socket;
    try {
      socket = new WebSocket(this.options.url, SUBPROTOCOL);
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      this.#heard();
      // Browsers cannot set headers on a WebSocket: the token goes in the first message.
      socket.send(JSON.stringify({ type: 'auth', token: this.options.token() }));
    };
    socket.onmessage = (event) => {
      this.#heard();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.#dispatch(message);
    };
    socket.onclose = (event) => this.#closed(event.code, event.reason);
    socket.onerror = () => {
      // A close event always follows; it carries what there is to know.
    };
  }

  #dispatch(message) {
    const { options } = this;
    switch (message.type) {
      case 'welcome': {
        this.#heartbeatMs = Number(message.heartbeat_ms) > 0 ? Number(message.heartbeat_ms) : 15000;
        this.#startLiveness();
        options.onWelcome(message);
        if (!message.can_watch) return;
        const resumeFrom = options.resumeFrom();
        this.#socket.send(JSON.stringify({ type: 'subscribe', ...(resumeFrom ? { resume_from: resumeFrom } : {}) }));
        options.onStatus({ state: 'syncing', attempt: this.#attempt });
        return;
      }
      case 'snapshot':
      case 'resumed':
        this.#subscribed = true;
        this.#attempt = 0;
        if (message.type === 'snapshot') options.onSnapshot(message);
        else options.onResumed(message);
        options.onStatus({ state: 'live' });
        return;
      case 'event':
        options.onEvent(message);
        return;
      case 'pong':
        return;
      default: {
        const pending = message.request_id ? this.#requests.get(message.request_id) : undefined;
        if (pending !== undefined) {
          this.#requests.delete(message.request_id);
          clearTimeout(pending.timer);
          pending.resolve(message);
        } else if (message.type === 'error') {
          options.onServerError(message);
        }
      }
    }
  }

  #closed(code, reason) {
    this.#teardown();
    if (this.#stopped) return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.#stopped = true;
      this.options.onFatal({ code, reason });
      return;
    }
    this.#scheduleReconnect();
  }

  /** Forgets the current socket; requests waiting on it fail (their outcome shows in the queue). */
  #teardown() {
    this.#socket = null;
    this.#subscribed = false;
    clearInterval(this.#livenessTimer);
    for (const [id, pending] of this.#requests) {
      clearTimeout(pending.timer);
      pending.reject(new Error('the connection was lost before the server answered'));
      this.#requests.delete(id);
    }
  }

  #scheduleReconnect() {
    const base = BACKOFF_MS[Math.min(this.#attempt, BACKOFF_MS.length - 1)];
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.#attempt++;
    this.options.onStatus({ state: 'reconnecting', attempt: this.#attempt, retryInMs: delay });
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #heard() {
    this.#lastHeardAt = Date.now();
  }

  // The server's pings are answered by the browser unseen; our own pings tell us the link is alive.
  #startLiveness() {
    clearInterval(this.#livenessTimer);
    this.#livenessTimer = setInterval(() => {
      if (Date.now() - this.#lastHeardAt > 2 * this.#heartbeatMs + 5000) {
        this.#abandon(4000, 'no answer');
        if (!this.#stopped) this.#scheduleReconnect();
        return;
      }
      if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify({ type: 'ping' }));
    }, this.#heartbeatMs);
  }

  /** Drops the current socket without waiting for a closing handshake that may never come. */
  #abandon(code, reason) {
    const socket = this.#socket;
    if (socket === null) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(code, reason);
    } catch {
      // Already closing.
    }
    this.#teardown();
  }
}
