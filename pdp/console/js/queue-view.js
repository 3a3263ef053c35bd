// The live queue: one card per pending request, most urgent first, kept in step with the
// queue state; a request that leaves the queue goes with a short notice saying why.
import { ApprovalCard, verdictText } from './approval-card.js';
import { h } from './dom-builder.js';
import { namedText } from './hidden-characters.js';

/** How long a resolved card stays, closed, before it leaves the list. */
const LEAVING_MS = 3000;

export class QueueView {
  #cards = new Map();
  #selectedId = null;
  #highlightId = null;

  /** options: state (ApprovalQueueState), me(), vote(record, verdict, reason), loadFull(record), loadMore(), notify(text, tone), onCount(n). */
  constructor(container, options) {
    this.container = container;
    this.options = options;
    this.list = h('div', { class: 'card-list' });
    this.empty = h('div', { class: 'empty-state' },
      h('div', { class: 'empty-mark', 'aria-hidden': 'true' }),
      h('p', { class: 'empty-title' }, 'Nothing waiting for you'),
      h('p', { class: 'muted' }, 'New requests appear here the moment policy holds them.'));
    this.loading = h('p', { class: 'muted loading' }, 'Loading the queue…');
    this.more = h('button', { type: 'button', class: 'load-more', hidden: true }, 'More requests are waiting: load them');
    this.more.addEventListener('click', async () => {
      this.more.disabled = true;
      try {
        await this.options.loadMore();
      } catch (error) {
        this.options.notify(`Could not load more requests: ${error.message}`, 'error');
      } finally {
        this.more.disabled = false;
        this.#render();
      }
    });
    container.replaceChildren(this.loading, this.empty, this.list, this.more);
    this.empty.hidden = true;
    options.state.onChange((changes) => this.#applyChanges(changes));
  }

  /** The queue has arrived at least once: from now on an empty queue is "nothing waiting". */
  ready() {
    this.loading.hidden = true;
    this.#render();
  }

  #applyChanges(changes) {
    for (const change of changes) {
      const card = this.#cards.get(change.record.id);
      if (change.kind === 'removed') this.#remove(change, card);
      if (change.kind === 'updated' && card) card.update(change.record);
    }
    this.#render();
  }

  #remove(change, card) {
    const { outcome, tone } = this.#outcome(change);
    this.options.notify(`${outcome}: ${namedText(change.record.action_summary ?? 'request')} on ${namedText(change.record.resource?.name ?? '?')}`, tone);
    if (card === undefined || card.leaving) return;
    card.leave(outcome, tone);
    setTimeout(() => {
      card.element.remove();
      if (this.#cards.get(change.record.id) === card) this.#cards.delete(change.record.id);
      this.#render();
    }, LEAVING_MS);
  }

  #outcome({ record, unknownOutcome }) {
    const me = this.options.me()?.sub;
    if (unknownOutcome) return { outcome: 'Left the queue while you were away', tone: 'info' };
    const last = record.decisions?.at(-1);
    if (record.status === 'expired') return { outcome: 'Expired without a decision', tone: 'warning' };
    if (last && last.approver === me) return { outcome: `You ${verdictText(last.verdict)}`, tone: last.verdict === 'approve' ? 'success' : 'info' };
    if (last) return { outcome: `${last.approver} ${verdictText(last.verdict)}`, tone: 'info' };
    return { outcome: `Resolved (${record.status})`, tone: 'info' };
  }

  #render() {
    const ordered = this.options.state.ordered();
    const keep = new Set(ordered.map((record) => record.id));
    for (const [id, card] of this.#cards) {
      if (!keep.has(id) && !card.leaving) {
        card.element.remove();
        this.#cards.delete(id);
      }
    }
    let previous = null;
    for (const record of ordered) {
      let card = this.#cards.get(record.id);
      if (card === undefined || card.leaving) {
        card?.element.remove();
        card = new ApprovalCard(record, { me: this.options.me, vote: this.options.vote, loadFull: this.options.loadFull });
        card.element.addEventListener('focusin', () => this.#select(record.id, false));
        this.#cards.set(record.id, card);
      }
      // Leaving cards keep their place until they go.
      let expectedPosition = previous === null ? this.list.firstElementChild : previous.nextElementSibling;
      while (expectedPosition?.classList.contains('leaving')) expectedPosition = expectedPosition.nextElementSibling;
      if (expectedPosition !== card.element) this.list.insertBefore(card.element, expectedPosition);
      previous = card.element;
    }
    if (this.#selectedId !== null && !this.#cards.has(this.#selectedId)) this.#selectedId = null;
    this.#applyHighlight();
    this.empty.hidden = !this.loading.hidden || this.list.children.length > 0;
    this.more.hidden = this.options.state.nextPage === null;
    this.options.onCount(ordered.length);
  }

  tick() {
    const now = Date.now();
    for (const card of this.#cards.values()) card.tick(now);
  }

  /** A deep link names this request: mark it, scroll to it. Returns whether it is in the queue. */
  highlight(id) {
    this.#highlightId = id;
    this.#applyHighlight();
    const card = this.#cards.get(id);
    if (card) {
      card.element.scrollIntoView({ block: 'start' });
      this.#select(id, true);
    }
    return card !== undefined;
  }

  #applyHighlight() {
    for (const [id, card] of this.#cards) card.element.classList.toggle('linked', id === this.#highlightId);
  }

  /** Moves the selection by `delta` cards (keyboard j/k). */
  move(delta) {
    const ids = this.#openIds();
    if (ids.length === 0) return;
    const index = this.#selectedId === null ? (delta > 0 ? -1 : ids.length) : ids.indexOf(this.#selectedId);
    const next = ids[Math.max(0, Math.min(ids.length - 1, index + delta))];
    this.#select(next, true);
    this.#cards.get(next)?.element.scrollIntoView({ block: 'nearest' });
  }

  /** The selected card, or the first open one: what keyboard shortcuts act on. */
  current() {
    const selected = this.#cards.get(this.#selectedId);
    if (selected !== undefined && !selected.leaving) return selected;
    return this.#cards.get(this.#openIds()[0]);
  }

  /** Ids of the cards still open, in the order shown. */
  #openIds() {
    return [...this.list.children].filter((element) => !element.classList.contains('leaving')).map((element) => element.dataset.approvalId);
  }

  #select(id, focus) {
    this.#selectedId = id;
    for (const [cardId, card] of this.#cards) card.element.classList.toggle('selected', cardId === id);
    if (focus) this.#cards.get(id)?.focus();
  }
}
