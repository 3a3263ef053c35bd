// One pending request as a card: who asks, what exactly, where, why policy holds it, the votes
// so far, a live countdown, and the Approve / Deny controls with their refusals.
import { actionView, isSuspicious } from './action-display.js';
import { h, replaceChildren } from './dom-builder.js';
import { namedText } from './hidden-characters.js';
import { agoText, clockText, countdownText, secondsUntil } from './time-text.js';
import { refusalText } from './vote-refusals.js';

let nextCardNumber = 1;

export function environmentClass(environment) {
  if (!environment) return 'env-unknown';
  if (/^prod/i.test(environment)) return 'env-production';
  if (/^(stag|pre|uat)/i.test(environment)) return 'env-staging';
  return 'env-other';
}

export function environmentBadge(environment) {
  return h('span', { class: `env-badge ${environmentClass(environment)}` }, environment ? environment.toUpperCase() : 'UNKNOWN ENVIRONMENT');
}

export function verdictText(verdict) {
  return verdict === 'approve' ? 'approved' : verdict === 'deny' ? 'denied' : String(verdict);
}

export class ApprovalCard {
  #record;
  #busy = false;

  /**
   * options: me () → {sub} of the signed-in approver; vote(record, verdict, reason) → Promise<reply>;
   * loadFull(record) → Promise<record> (the whole action, when a list shortened it).
   */
  constructor(record, options) {
    this.options = options;
    this.#record = record;
    const number = nextCardNumber++;
    this.reasonId = `reason-${number}`;
    const titleId = `card-title-${number}`;

    this.countdown = h('div', { class: 'countdown', role: 'timer', 'aria-live': 'off' });
    this.votes = h('section', { class: 'votes', 'aria-label': 'Approvals so far' });
    this.ownNote = h('p', { class: 'own-note', hidden: true });
    this.reason = h('textarea', { id: this.reasonId, rows: '2', maxlength: '2000', placeholder: 'e.g. ticket OPS-1234, checked with the owner', 'aria-describedby': `${this.reasonId}-hint` });
    this.refusal = h('div', { class: 'refusal', role: 'alert', hidden: true });
    this.approveButton = h('button', { type: 'button', class: 'approve' }, 'Approve', h('kbd', {}, 'A'));
    this.denyButton = h('button', { type: 'button', class: 'deny' }, 'Deny', h('kbd', {}, 'D'));
    this.approveButton.addEventListener('click', () => this.approve());
    this.denyButton.addEventListener('click', () => this.deny());
    this.reason.addEventListener('input', () => this.#refreshControls());
    this.reason.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.element.focus();
      }
    });

    const { resource, requester } = record;
    this.what = h('section', { class: 'what', 'aria-label': 'What' });
    this.element = h('article', {
      class: `card ${environmentClass(resource?.environment)}${isSuspicious(record) ? ' suspicious' : ''}`,
      tabindex: '-1',
      'aria-labelledby': titleId,
      dataset: { approvalId: record.id },
    },
    h('header', { class: 'card-head' },
      environmentBadge(resource?.environment),
      h('h2', { id: titleId, class: 'card-title' },
        h('span', { class: 'resource-name' }, namedText(resource?.name ?? '?')),
        h('span', { class: 'resource-type' }, resource?.type ?? '')),
      this.countdown),
    h('div', { class: 'card-body' },
      h('section', { class: 'who', 'aria-label': 'Who asks' },
        h('h3', {}, 'Who'),
        h('p', { class: 'requester' },
          h('span', { class: 'requester-sub' }, namedText(requester?.sub ?? '?')),
          h('span', { class: `kind-badge kind-${requester?.kind === 'human' ? 'human' : 'agent'}` }, requester?.kind === 'human' ? 'human' : 'agent')),
        h('p', { class: 'muted small' },
          requester?.iss ? `issuer ${namedText(requester.iss)}` : null,
          record.session?.client_addr ? ` · from ${namedText(record.session.client_addr)}` : null,
          record.session?.id ? ` · session ${namedText(record.session.id)}` : null)),
      this.what,
      h('section', { class: 'why', 'aria-label': 'Why it needs approval' },
        h('h3', {}, 'Why it is held'),
        h('ul', { class: 'reasons' }, (record.reasons ?? []).map((reason) =>
          h('li', {}, h('span', { class: 'reason-message' }, namedText(reason.message ?? '')), h('code', { class: 'reason-code' }, namedText(reason.code ?? '')))))),
      this.votes),
    h('div', { class: 'decide', role: 'group', 'aria-label': 'Your decision' },
      this.ownNote,
      h('label', { for: this.reasonId }, 'Reason'),
      h('p', { id: `${this.reasonId}-hint`, class: 'muted small hint' }, 'Required to deny, optional to approve. The requester and the auditors read it.'),
      this.reason,
      this.refusal,
      h('div', { class: 'buttons' }, this.approveButton, this.denyButton)),
    h('footer', { class: 'card-foot muted small' },
      h('span', { class: 'requested-at' }), ' · approval ', h('code', {}, record.id), ' · decision ', h('code', {}, record.decision_id ?? '')));
    this.#renderWhat(record);
    this.update(record);
  }

  /** The command, or its listed beginning with the way to the whole of it. */
  #renderWhat(record) {
    const truncated = record.action_truncated;
    let note = null;
    if (truncated) {
      const load = h('button', { type: 'button', class: 'load-full' }, 'Load the whole command');
      load.addEventListener('click', async () => {
        load.disabled = true;
        load.textContent = 'Loading…';
        try {
          const full = await this.options.loadFull(record);
          this.#full = full;
          this.#renderWhat({ ...full, decisions: this.#record.decisions, version: this.#record.version });
          this.#refreshControls();
        } catch (error) {
          load.disabled = false;
          load.textContent = `Could not load it (${error.message}); try again`;
        }
      });
      note = h('p', { class: 'hidden-warning truncated-note', role: 'note' },
        `Only the first ${truncated.shown_chars.toLocaleString()} of ${truncated.total_chars.toLocaleString()} characters are shown. You can decide once you have loaded the whole command. `, load);
    }
    replaceChildren(this.what, note, actionView(record.action, record));
    this.element.classList.toggle('suspicious', isSuspicious(record));
  }

  /** The whole record once loaded; a shortened one cannot be approved. */
  #full = null;

  get record() {
    return this.#record;
  }

  update(record) {
    this.#record = record;
    const me = this.options.me();
    const decisions = record.decisions ?? [];
    const approvals = decisions.filter((decision) => decision.verdict === 'approve').length;
    replaceChildren(this.votes,
      h('h3', {}, 'Approvals'),
      h('p', { class: 'quorum' }, h('strong', {}, `${approvals} of ${record.quorum}`), ` approval${record.quorum === 1 ? '' : 's'} needed`,
        record.approver_roles?.length ? h('span', { class: 'muted' }, ` · from role ${record.approver_roles.join(' or ')}`) : null),
      decisions.length === 0
        ? h('p', { class: 'muted' }, 'No votes yet.')
        : h('ol', { class: 'vote-list' }, decisions.map((decision) =>
          h('li', { class: `vote vote-${decision.verdict}` },
            h('span', { class: 'voter' }, namedText(decision.approver)),
            decision.kind && decision.kind !== 'human' ? h('span', { class: 'kind-badge kind-agent' }, decision.kind) : null,
            ` ${verdictText(decision.verdict)}`,
            decision.reason ? h('q', {}, namedText(decision.reason)) : null,
            h('time', { datetime: decision.at, class: 'muted' }, clockText(decision.at))))));
    const myVote = decisions.find((decision) => decision.approver === me?.sub);
    const own = record.requester?.sub === me?.sub;
    this.ownNote.hidden = !myVote && !own;
    this.ownNote.textContent = myVote
      ? `You ${verdictText(myVote.verdict)} this at ${clockText(myVote.at)}; waiting for ${Math.max(0, record.quorum - approvals)} more.`
      : own ? 'You asked for this yourself: someone else must decide it.' : '';
    this.element.querySelector('.requested-at').textContent = `requested ${agoText(record.created_at)}`;
    this.tick();
    this.#refreshControls();
  }

  /** Updates the countdown; called every second. */
  tick(now = Date.now()) {
    const left = secondsUntil(this.#record.expires_at, now);
    const expired = left <= 0;
    this.element.classList.toggle('expired', expired);
    this.countdown.classList.toggle('urgent', !expired && left < 60);
    replaceChildren(this.countdown, expired ? h('strong', {}, 'Expired') : ['expires in ', h('strong', {}, countdownText(this.#record.expires_at, now))]);
    this.countdown.title = `expires ${clockText(this.#record.expires_at)}`;
    if (expired !== this.wasExpired) {
      this.wasExpired = expired;
      this.#refreshControls();
    }
  }

  /**
   * The request left the queue: the card stays in place for a moment, closed and saying why,
   * so nothing moves under a pointer about to click, then goes.
   */
  leave(outcome, tone) {
    this.leaving = true;
    this.element.classList.add('leaving', `leaving-${tone}`);
    for (const control of [this.approveButton, this.denyButton, this.reason]) control.disabled = true;
    this.element.querySelector('.card-head').after(h('p', { class: 'outcome', role: 'status' }, outcome));
  }

  focus() {
    this.element.focus();
  }

  focusReason() {
    this.reason.focus();
  }

  approve() {
    if (!this.approveButton.disabled) void this.#vote('approve');
  }

  /** Denies when a reason is written; otherwise asks for one. */
  deny() {
    if (this.reason.value.trim() === '') {
      this.#showRefusal(refusalText('reason-required'));
      this.reason.focus();
      return;
    }
    if (!this.denyButton.disabled) void this.#vote('deny');
  }

  async #vote(verdict) {
    this.#busy = true;
    this.refusal.hidden = true;
    this.#refreshControls();
    (verdict === 'approve' ? this.approveButton : this.denyButton).firstChild.textContent = verdict === 'approve' ? 'Approving…' : 'Denying…';
    try {
      const reply = await this.options.vote(this.#record, verdict, this.reason.value.trim());
      if (reply.type === 'vote_result' && reply.ok) {
        this.reason.value = '';
      } else {
        this.#showRefusal(refusalText(reply.code, reply.message));
      }
    } catch (error) {
      this.#showRefusal({ title: 'Your vote may not have reached the server', help: 'The card shows your vote once the server has it; vote again if it does not.', detail: error.message });
    } finally {
      this.#busy = false;
      this.approveButton.firstChild.textContent = 'Approve';
      this.denyButton.firstChild.textContent = 'Deny';
      this.#refreshControls();
    }
  }

  #showRefusal(text) {
    replaceChildren(this.refusal,
      h('strong', { class: 'refusal-title' }, text.title),
      text.help ? h('p', {}, text.help) : null,
      text.detail ? h('p', { class: 'muted small refusal-detail' }, text.detail) : null);
    this.refusal.hidden = false;
    this.refusal.scrollIntoView({ block: 'nearest' });
  }

  #refreshControls() {
    if (this.leaving) return;
    const me = this.options.me();
    const voted = (this.#record.decisions ?? []).some((decision) => decision.approver === me?.sub);
    const closed = this.#busy || voted || secondsUntil(this.#record.expires_at) <= 0;
    // Nobody approves a command they were shown only the beginning of.
    this.approveButton.disabled = closed || (this.#record.action_truncated !== undefined && this.#full === null);
    this.denyButton.disabled = closed || this.reason.value.trim() === '';
    this.reason.disabled = voted;
  }
}
