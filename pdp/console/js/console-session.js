// One signed-in approver's console: the live socket, the queue state and the four views
// (queue, history, evidence, sessions, policy), the header (who, token lifetime, connection), and deep links.
// Made at sign-in and disposed of at sign-out, so nothing of one session leaks into the next.
import { ApprovalQueueState } from './approval-queue-state.js';
import { ApprovalSocket } from './approval-socket.js';
import { socketUrl } from './console-config.js';
import { h, replaceChildren } from './dom-builder.js';
import { EvidenceView } from './evidence-view.js';
import { parseRoute } from './hash-route.js';
import { HistoryView, historyItem } from './history-view.js';
import { Notices } from './notices.js';
import { PolicyView } from './policy-view.js';
import { QueueView } from './queue-view.js';
import { SessionsView } from './sessions-view.js';
import { clockText } from './time-text.js';

const TABS = ['queue', 'history', 'evidence', 'sessions', 'policy'];
const EXPIRY_WARNING_MS = 2 * 60 * 1000;

export class ConsoleSession {
  #timers = [];
  #principal = null;
  #route = { tab: 'queue', approvalId: null, sessionId: null };
  #disposed = false;
  #everLive = false;

  /** options: config, session (TokenStore.session), elements (page nodes), onEnd(message, tone). */
  constructor(options) {
    this.options = options;
    this.session = options.session;
    const el = options.elements;
    this.el = el;
    this.state = new ApprovalQueueState();
    this.notices = new Notices(el.notices);
    const me = () => this.#principal ?? { sub: this.session.claims?.sub };
    this.queueView = new QueueView(el.queue, {
      state: this.state,
      me,
      vote: (record, verdict, reason) => this.#vote(record, verdict, reason),
      loadFull: (record) => this.#loadFull(record),
      loadMore: () => this.#loadMore(),
      notify: (text, tone) => this.notices.notify(text, tone),
      onCount: (count) => this.#showCount(count),
    });
    this.historyView = new HistoryView(el.history, { load: () => this.#loadHistory() });
    this.evidenceView = new EvidenceView(el.evidence, { fetchReport: (format, period) => this.#fetchReport(format, period) });
    this.sessionsView = new SessionsView(el.sessions, { fetch: (path) => this.#fetch(path) });
    this.policyView = new PolicyView(el.policy, { fetch: (path) => this.#fetch(path) });
    this.state.onChange((changes) => {
      if (changes.some((change) => change.kind === 'removed') && this.#route.tab === 'history') this.historyView.refreshSoon();
    });
    this.socket = new ApprovalSocket({
      url: socketUrl(options.config),
      token: () => this.session.token,
      resumeFrom: () => this.state.lastEventId,
      onWelcome: (message) => this.#welcome(message),
      onSnapshot: (message) => {
        this.state.applySnapshot(message);
        this.#queueArrived();
      },
      onResumed: () => this.#queueArrived(),
      onEvent: (message) => this.state.applyEvent(message),
      onServerError: (message) => this.notices.notify(`The server reported: ${message.message ?? message.code}`, 'error'),
      onStatus: (status) => this.#showConnection(status),
      onFatal: ({ code, reason }) => this.#fatal(code, reason),
    });
  }

  start() {
    const el = this.el;
    el.meName.textContent = this.session.claims?.sub ?? 'signed in';
    el.meRoles.textContent = '';
    el.retry.onclick = () => this.socket.reconnectNow();
    replaceChildren(el.linked);
    this.socket.start();
    this.#timers.push(setInterval(() => this.#tick(), 1000));
    const expiresAt = this.session.expiresAt;
    if (expiresAt !== null) {
      this.#timers.push(setTimeout(() => this.end(`Your session expired at ${clockText(new Date(expiresAt).toISOString())}. Sign in again to keep approving.`, 'warning'),
        Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1)));
    }
    this.#tick();
  }

  /** Ends this session and returns to the sign-in screen with `message`. */
  end(message, tone = 'info') {
    if (this.#disposed) return;
    this.dispose();
    this.options.onEnd(message, tone);
  }

  dispose() {
    this.#disposed = true;
    this.socket.stop();
    this.policyView.hide();
    for (const timer of this.#timers) clearTimeout(timer);
    this.el.banner.hidden = true;
    this.notices.clear();
  }

  route(hash) {
    this.#route = parseRoute(hash);
    for (const tab of TABS) {
      const selected = tab === this.#route.tab;
      this.el.tabs[tab].setAttribute('aria-selected', String(selected));
      this.el.panels[tab].hidden = !selected;
    }
    if (this.#route.tab === 'history') void this.historyView.refresh();
    if (this.#route.tab === 'evidence' && !this.evidenceView.loaded) void this.evidenceView.load();
    if (this.#route.tab === 'sessions') void this.sessionsView.show(this.#route.sessionId);
    // Asked again every few seconds only while on screen.
    if (this.#route.tab === 'policy') this.policyView.show();
    else this.policyView.hide();
    if (this.#route.tab === 'queue') this.#showLinked();
  }

  /** Keyboard bindings while this session is on screen. */
  shortcuts() {
    const onQueue = (fn) => () => {
      if (this.#route.tab === 'queue') fn();
    };
    return {
      j: onQueue(() => this.queueView.move(1)),
      ArrowDown: onQueue(() => this.queueView.move(1)),
      k: onQueue(() => this.queueView.move(-1)),
      ArrowUp: onQueue(() => this.queueView.move(-1)),
      a: onQueue(() => this.queueView.current()?.approve()),
      d: onQueue(() => this.queueView.current()?.deny()),
      r: onQueue(() => this.queueView.current()?.focusReason()),
      1: () => this.#go('#/queue'),
      2: () => this.#go('#/history'),
      3: () => this.#go('#/evidence'),
      4: () => this.#go('#/sessions'),
      5: () => this.#go('#/policy'),
    };
  }

  #go(hash) {
    if (window.location.hash !== hash) window.location.hash = hash;
  }

  #welcome(message) {
    this.#principal = message.principal;
    this.el.meName.textContent = message.principal.sub;
    this.el.meRoles.textContent = (message.principal.roles ?? []).join(', ');
    if (!message.can_watch) {
      this.end(`Signed in as ${message.principal.sub}, but this token has no role that may use the console (approver or auditor).`, 'error');
    }
  }

  #queueArrived() {
    this.#everLive = true;
    this.queueView.ready();
    if (this.#route.tab === 'queue') this.#showLinked();
  }

  #fatal(code, reason) {
    if (code === 4401 && /token-expired/.test(reason ?? '')) code = 4402;
    const messages = {
      4402: 'Your session expired. Sign in again to keep approving.',
      4403: `This token has no role that may use the console. ${reason ?? ''}`,
      4401: `The PDP refused this token${reason ? ` (${reason})` : ''}.`,
    };
    this.end(messages[code] ?? `The PDP closed the connection (${code}${reason ? `: ${reason}` : ''}).`, code === 4402 ? 'warning' : 'error');
  }

  async #vote(record, verdict, reason) {
    if (!this.socket.live) throw new Error('Not connected: the vote was not sent. Try again once the console is live.');
    const reply = await this.socket.request({ type: 'vote', approval_id: record.id, verdict, reason });
    if (reply.type === 'vote_result' && reply.ok) this.state.applyRecord(reply.approval);
    if (reply.type === 'error') return { type: 'vote_result', ok: false, code: reply.code, message: reply.message };
    return reply;
  }

  /** The whole record, when a list shortened its action. */
  async #loadFull(record) {
    if (!this.socket.live) throw new Error('not connected');
    const reply = await this.socket.request({ type: 'get', approval_id: record.id });
    if (reply.type !== 'record') throw new Error(reply.message ?? reply.code ?? 'no record');
    return reply.approval;
  }

  /** The next page of the queue. */
  async #loadMore() {
    if (this.state.nextPage === null) return;
    if (!this.socket.live) throw new Error('not connected');
    const reply = await this.socket.request({ type: 'page', page: this.state.nextPage });
    if (reply.type !== 'page') throw new Error(reply.message ?? reply.code ?? 'no page');
    this.state.applyPage(reply);
  }

  async #loadHistory() {
    if (this.socket.live) {
      const reply = await this.socket.request({ type: 'history', limit: 50 });
      if (reply.type === 'history') return reply.resolved;
    }
    const response = await this.#fetch('/v1/approvals/history?limit=50');
    const body = await response.json();
    if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
    return body.resolved;
  }

  #fetchReport(format, period) {
    const query = new URLSearchParams({ format });
    if (period.from) query.set('from', period.from);
    if (period.to) query.set('to', period.to);
    return this.#fetch(`/v1/audit/report?${query}`);
  }

  /** fetch with the bearer header; a 401 means the token is no longer good: back to sign-in. */
  async #fetch(path) {
    const response = await fetch(path, { headers: { authorization: `Bearer ${this.session.token}` }, credentials: 'omit', cache: 'no-store' });
    if (response.status === 401) this.end('The PDP no longer accepts your token. Sign in again.', 'warning');
    return response;
  }

  /** A deep link: the request in the queue, or what became of it. */
  async #showLinked() {
    const id = this.#route.approvalId;
    replaceChildren(this.el.linked);
    if (id === null || !this.#everLive) return;
    if (this.queueView.highlight(id)) return;
    let record = this.state.resolved.get(id);
    if (record === undefined) {
      try {
        const response = await this.#fetch(`/v1/approvals/${id}`);
        if (response.status === 404) {
          this.#linkedPanel(h('p', {}, 'No request with the linked id ', h('code', {}, id), ' exists (any more).'));
          return;
        }
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        record = (await response.json()).approval;
      } catch (error) {
        this.#linkedPanel(h('p', {}, `Could not look up the linked request: ${error.message}`));
        return;
      }
    }
    if (this.#route.approvalId !== id) return;
    if (record.status === 'pending') {
      this.queueView.highlight(id);
      return;
    }
    this.#linkedPanel(h('p', {}, 'The linked request is no longer waiting: it was ', h('strong', {}, record.status), '.'),
      h('ol', { class: 'history-list' }, historyItem(record, true)));
  }

  #linkedPanel(...children) {
    const close = h('a', { href: '#/queue', class: 'link-button' }, 'Dismiss');
    replaceChildren(this.el.linked, h('div', { class: 'linked-panel', role: 'region', 'aria-label': 'Linked request' }, ...children, close));
  }

  #showCount(count) {
    this.el.count.textContent = String(count);
    this.el.count.classList.toggle('zero', count === 0);
    document.title = count > 0 ? `(${count}) Portcullis approvals` : 'Portcullis approvals';
  }

  #showConnection(status) {
    const { connection, banner, bannerText } = this.el;
    connection.dataset.state = status.state;
    connection.textContent = { connecting: 'Connecting…', syncing: 'Syncing…', live: 'Live', reconnecting: 'Reconnecting…' }[status.state];
    document.body.classList.toggle('offline', status.state !== 'live');
    if (status.state === 'live') {
      if (!banner.hidden) this.notices.notify('Reconnected: the queue is up to date.', 'success');
      banner.hidden = true;
    } else if (status.state === 'reconnecting') {
      const retry = status.retryInMs ? ` Next try in ${Math.ceil(status.retryInMs / 1000)} s.` : '';
      bannerText.textContent = `Connection lost: reconnecting…${retry} The queue below is kept and may be out of date; votes wait until the console is live again.`;
      banner.hidden = false;
    }
  }

  #tick() {
    this.queueView.tick();
    const expiresAt = this.session.expiresAt;
    if (expiresAt === null) {
      this.el.meExpiry.textContent = '';
      return;
    }
    const left = expiresAt - Date.now();
    const minutes = Math.max(0, Math.ceil(left / 60000));
    this.el.meExpiry.textContent = left < EXPIRY_WARNING_MS ? `session ends in ${Math.max(0, Math.ceil(left / 1000))} s` : `session: ${minutes} min left`;
    this.el.meExpiry.classList.toggle('warning', left < EXPIRY_WARNING_MS);
  }
}
