// Recently resolved requests: what was decided, by whom, why and when.
import { actionView, revealedText } from './action-display.js';
import { environmentBadge, verdictText } from './approval-card.js';
import { h, replaceChildren } from './dom-builder.js';
import { namedText } from './hidden-characters.js';
import { clockText } from './time-text.js';

const STATUS_LABELS = { approved: 'APPROVED', executed: 'APPROVED · EXECUTED', denied: 'DENIED', expired: 'EXPIRED', pending: 'PENDING' };

/** One resolved request; `open` expands the command and reasons. */
export function historyItem(record, open = false) {
  const decisions = record.decisions ?? [];
  return h('li', { class: `history-item status-${record.status}`, dataset: { approvalId: record.id } },
    h('details', { open },
      h('summary', {},
        h('span', { class: `status-badge status-${record.status}` }, STATUS_LABELS[record.status] ?? String(record.status).toUpperCase()),
        h('code', { class: 'history-summary' }, revealedText(record.action_summary ?? '')[0]),
        decisions.length > 0 ? h('span', { class: 'history-who' }, `by ${[...new Set(decisions.map((decision) => namedText(decision.approver)))].join(', ')}`) : null,
        h('span', { class: 'history-where' }, environmentBadge(record.resource?.environment), ` ${namedText(record.resource?.name ?? '?')}`),
        h('span', { class: 'muted history-when' }, clockText(record.resolved_at ?? record.created_at))),
      h('div', { class: 'history-body' },
        h('p', {}, 'Requested by ', h('strong', {}, namedText(record.requester?.sub ?? '?')), ` (${record.requester?.kind ?? 'agent'}) at ${clockText(record.created_at)}`),
        decisions.length === 0
          ? h('p', { class: 'muted' }, record.status === 'expired' ? 'Nobody decided before it expired.' : 'No votes.')
          : h('ol', { class: 'vote-list' }, decisions.map((decision) => h('li', { class: `vote vote-${decision.verdict}` },
            h('span', { class: 'voter' }, namedText(decision.approver)), ` ${verdictText(decision.verdict)}`,
            decision.reason ? h('q', {}, namedText(decision.reason)) : null,
            h('time', { datetime: decision.at, class: 'muted' }, clockText(decision.at))))),
        actionView(record.action, record),
        h('ul', { class: 'reasons' }, (record.reasons ?? []).map((reason) =>
          h('li', {}, h('span', { class: 'reason-message' }, namedText(reason.message ?? '')), h('code', { class: 'reason-code' }, namedText(reason.code ?? ''))))),
        h('p', { class: 'muted small' }, 'approval ', h('code', {}, record.id)))));
}

export class HistoryView {
  #refreshTimer = null;

  /** options: load() → Promise<records>. */
  constructor(container, options) {
    this.options = options;
    this.status = h('p', { class: 'muted', role: 'status' });
    this.list = h('ol', { class: 'history-list' });
    this.refreshButton = h('button', { type: 'button', class: 'secondary' }, 'Refresh');
    this.refreshButton.addEventListener('click', () => void this.refresh());
    container.replaceChildren(
      h('div', { class: 'section-head' }, h('h2', {}, 'Recently resolved'), this.refreshButton),
      this.status, this.list);
  }

  async refresh() {
    this.status.textContent = 'Loading…';
    try {
      const records = await this.options.load();
      replaceChildren(this.list, records.map((record) => historyItem(record)));
      this.status.textContent = records.length === 0 ? 'Nothing resolved yet.' : `${records.length} most recent, newest first.`;
    } catch (error) {
      this.status.textContent = `Could not load the history: ${error.message}`;
    }
  }

  /** Something was resolved: reload soon, once, however many arrive together. */
  refreshSoon() {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => void this.refresh(), 400);
  }
}
