// The Policy view: the live policy's revision and, when a candidate runs in shadow beside it,
// the candidate's revision, what it has evaluated, and its differences from the live policy as
// they happen (GET /v1/policy, asked again every few seconds while the view is on screen), with
// the impact command that replays every recorded decision against the same candidate.
// Everything shown is text nodes.
import { h, replaceChildren } from './dom-builder.js';
import { clockText } from './time-text.js';

const REFRESH_MS = 2000;
const EFFECT_CLASSES = { allow: 'status-approved', deny: 'status-denied', approval_required: 'status-pending' };

function effectBadge(effect) {
  return h('span', { class: `status-badge ${EFFECT_CLASSES[effect] ?? ''}` }, effect);
}

function bundleRows(bundle) {
  return [
    ['Revision', bundle.revision ?? 'none loaded'],
    ['State', bundle.state],
    ['Source', bundle.source],
    ['Active since', bundle.activatedAt ? clockText(bundle.activatedAt) : '—'],
    ['Last error', bundle.lastError ? `${bundle.lastError.message} (${clockText(bundle.lastError.at)})` : 'none'],
  ];
}

function table(rows) {
  return h('table', { class: 'counts' }, h('tbody', {}, rows.map(([name, value]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, value)))));
}

function differenceRow(difference) {
  return h('tr', { dataset: { decisionId: difference.decision_id } },
    h('td', {}, clockText(difference.time)),
    h('td', {}, difference.principal ?? 'unauthenticated'),
    h('td', {}, `${difference.resource.type} ${difference.resource.name}`),
    h('td', {}, difference.action_type),
    h('td', { class: 'policy-effects' }, effectBadge(difference.live.effect), ' → ', effectBadge(difference.shadow.effect)),
    h('td', {}, difference.changes.join(', ')),
    h('td', {}, `${difference.live.reasons.join(', ') || '—'} → ${difference.shadow.reasons.join(', ') || '—'}`),
    h('td', { class: 'mono' }, difference.decision_id));
}

export class PolicyView {
  #timer = null;

  /** options: fetch(path) → Promise<Response> (with the bearer token). */
  constructor(container, options) {
    this.options = options;
    this.status = h('p', { class: 'muted', role: 'status' });
    this.live = h('div', { class: 'policy-live' });
    this.shadow = h('div', { class: 'policy-shadow' });
    this.impact = h('div', { class: 'policy-impact' });
    this.differences = h('div', { class: 'policy-differences' });
    container.replaceChildren(
      h('div', { class: 'section-head' }, h('h2', {}, 'Policy'),
        h('p', { class: 'muted' }, 'The policy that answers, and a candidate evaluated beside it on every decision without changing any answer.')),
      this.status, this.live, this.shadow, this.impact, this.differences);
  }

  /** Shows the view and keeps it current until hide(). */
  show() {
    if (this.#timer !== null) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  hide() {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async refresh() {
    try {
      const response = await this.options.fetch('/v1/policy');
      const body = await response.json();
      if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
      this.#render(body);
      this.status.textContent = `Updated ${clockText(new Date().toISOString())}.`;
    } catch (error) {
      this.status.textContent = `Could not read the policy status: ${error.message}`;
    }
  }

  #render(body) {
    replaceChildren(this.live, h('h3', {}, 'Live'), table(bundleRows(body.live)));
    if (body.shadow === null) {
      replaceChildren(this.shadow, h('h3', {}, 'Shadow'),
        h('p', { class: 'muted' }, 'No candidate runs in shadow. Set PORTCULLIS_SHADOW_POLICY_DIR, PORTCULLIS_SHADOW_BUNDLE_FILE or PORTCULLIS_SHADOW_BUNDLE_URL to evaluate one beside the live policy.'));
      replaceChildren(this.impact);
      replaceChildren(this.differences);
      return;
    }
    const { evaluations } = body.shadow;
    replaceChildren(this.shadow, h('h3', {}, 'Shadow'), table([
      ...bundleRows(body.shadow.bundle),
      ['Evaluated', `${evaluations.same + evaluations.different} (${evaluations.different} different, ${evaluations.same} the same)`],
      ['Failed', String(evaluations.failed)],
      ['Not evaluated', `${evaluations.dropped} (queue ${body.shadow.queued} of ${body.shadow.max_queued})`],
      ['Last evaluation error', body.shadow.last_evaluation_error ? `${body.shadow.last_evaluation_error.message} (${clockText(body.shadow.last_evaluation_error.at)})` : 'none'],
    ]));
    if (body.impact_command) {
      const command = h('code', { class: 'policy-impact-command' }, body.impact_command);
      const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy');
      copy.addEventListener('click', () => void navigator.clipboard?.writeText(body.impact_command));
      replaceChildren(this.impact, h('h3', {}, 'Impact report'),
        h('p', { class: 'muted' }, 'The differences below are those of decisions made since the candidate loaded. For every recorded decision of a period, by rule, principal and resource, run:'),
        h('p', {}, command, ' ', copy));
    }
    const rows = body.differences;
    replaceChildren(this.differences, h('h3', {}, `Differences (${evaluations.different}; the latest ${rows.length})`),
      rows.length === 0
        ? h('p', { class: 'muted' }, 'None: the candidate answers every decision so far as the live policy does.')
        : h('table', { class: 'policy-difference-table' },
          h('thead', {}, h('tr', {}, ['Time', 'Principal', 'Resource', 'Action', 'Live → shadow', 'Changes', 'Reasons', 'Decision'].map((name) => h('th', { scope: 'col' }, name)))),
          h('tbody', {}, rows.map(differenceRow))));
  }
}
