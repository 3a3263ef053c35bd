// The Sessions view: find sessions by principal, resource and time; a session's commands in
// order with their decisions, reasons and approvals, and what ran; an interactive session's
// recording played in the page. Reads GET /v1/sessions (the audit trail, as `portcullis
// sessions` does); everything shown is text nodes, so what a session held never becomes markup.
import { revealedText } from './action-display.js';
import { h, replaceChildren } from './dom-builder.js';
import { namedText } from './hidden-characters.js';
import { mountPlayer } from './session-player.js';
import { clockText } from './time-text.js';

const EFFECT_LABELS = { allow: 'ALLOWED', deny: 'DENIED', approval_required: 'HELD FOR APPROVAL' };
const EFFECT_CLASSES = { allow: 'status-approved', deny: 'status-denied', approval_required: 'status-pending' };

export class SessionsView {
  #disposePlayer = null;
  #shown = null;

  /** options: fetch(path) → Promise<Response> (with the bearer token), open(id) (sets the route). */
  constructor(container, options) {
    this.options = options;
    const field = (id, label, attributes) => {
      const input = h('input', { id, ...attributes });
      return [input, h('label', { for: id }, label, input)];
    };
    [this.principal, this.principalLabel] = field('sessions-principal', 'Principal', { type: 'text', placeholder: 'any', autocomplete: 'off' });
    [this.resource, this.resourceLabel] = field('sessions-resource', 'Resource', { type: 'text', placeholder: 'any', autocomplete: 'off' });
    [this.from, this.fromLabel] = field('sessions-from', 'From', { type: 'datetime-local' });
    [this.to, this.toLabel] = field('sessions-to', 'To', { type: 'datetime-local' });
    this.findButton = h('button', { type: 'submit', class: 'primary' }, 'Find sessions');
    const form = h('form', { class: 'evidence-controls', role: 'search' }, this.principalLabel, this.resourceLabel, this.fromLabel, this.toLabel, this.findButton);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.find();
    });
    this.status = h('p', { class: 'muted', role: 'status' });
    this.list = h('div', { class: 'sessions-list' });
    this.detail = h('div', { class: 'session-detail' });
    container.replaceChildren(
      h('div', { class: 'section-head' }, h('h2', {}, 'Sessions'), h('p', { class: 'muted' }, 'What each session ran, what policy decided and who approved; interactive sessions play back as their client saw them.')),
      form, this.status, this.detail, this.list);
    this.loaded = false;
  }

  /** Shows the list (id null) or one session. */
  async show(id) {
    if (id === this.#shown && id !== null) return;
    this.#shown = id;
    this.#stopPlayer();
    if (id === null) {
      replaceChildren(this.detail);
      this.list.hidden = false;
      if (!this.loaded) await this.find();
      return;
    }
    this.list.hidden = true;
    await this.#loadDetail(id);
  }

  async find() {
    this.loaded = true;
    const query = new URLSearchParams();
    if (this.principal.value.trim()) query.set('principal', this.principal.value.trim());
    if (this.resource.value.trim()) query.set('resource', this.resource.value.trim());
    if (this.from.value) query.set('from', new Date(this.from.value).toISOString());
    if (this.to.value) query.set('to', new Date(this.to.value).toISOString());
    this.status.textContent = 'Reading the audit trail…';
    this.findButton.disabled = true;
    try {
      const response = await this.options.fetch(`/v1/sessions?${query}`);
      const body = await response.json();
      if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
      replaceChildren(this.list, sessionTable(body.sessions));
      this.status.textContent = body.sessions.length === 0 ? 'No session matches.' : `${body.sessions.length}${body.truncated ? ' (the newest)' : ''} session(s), newest first.`;
    } catch (error) {
      replaceChildren(this.list);
      this.status.textContent = `Could not read the sessions: ${error.message}`;
    } finally {
      this.findButton.disabled = false;
    }
  }

  async #loadDetail(id) {
    replaceChildren(this.detail, h('p', { class: 'muted' }, 'Loading the session…'));
    let session;
    try {
      const response = await this.options.fetch(`/v1/sessions/${encodeURIComponent(id)}`);
      session = await response.json();
      if (!response.ok) throw new Error(session.message ?? `HTTP ${response.status}`);
    } catch (error) {
      replaceChildren(this.detail, h('p', {}, `Could not load session `, h('code', {}, namedText(id)), `: ${error.message}`), backLink());
      return;
    }
    if (this.#shown !== id) return;
    const playerBox = h('div', { class: 'session-player', id: 'session-player' });
    const recording = session.recording;
    replaceChildren(this.detail,
      backLink(),
      h('section', { class: 'session-head', dataset: { sessionId: session.id } },
        h('h3', {}, 'Session ', h('code', {}, namedText(session.id))),
        h('p', {}, h('strong', {}, namedText(session.principal?.sub ?? '?')), ` (${session.principal?.kind ?? 'unknown'}) on `,
          h('strong', {}, namedText(session.resource?.name ?? '?')), session.resource?.environment ? ` (${namedText(session.resource.environment)})` : '',
          ` over ${session.protocol ?? '?'}`, session.client_addr ? ` from ${namedText(session.client_addr)}` : ''),
        h('p', { class: 'muted' }, `${clockText(session.started_at)} → ${session.ended_at ? clockText(session.ended_at) : 'still open (or its end is not recorded)'}`,
          session.end_reason ? ` · ended: ${namedText(session.end_reason)}` : '')),
      recording ? h('section', { class: 'session-recording' },
        h('h4', {}, 'Recording'),
        recordingNote(recording),
        playerBox) : null,
      h('section', {}, h('h4', {}, `Commands (${session.commands_list.length})`), commandTable(session.commands_list)));
    if (recording) await this.#play(id, playerBox);
  }

  async #play(id, box) {
    try {
      const response = await this.options.fetch(`/v1/sessions/${encodeURIComponent(id)}/recording`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const text = await response.text();
      if (this.#shown !== id) return;
      const header = JSON.parse(text.slice(0, text.indexOf('\n')));
      this.#disposePlayer = await mountPlayer(box, text, header);
      box.dataset.state = 'ready';
    } catch (error) {
      replaceChildren(box, h('p', { class: 'muted' }, `The recording cannot be played: ${error.message}`));
      box.dataset.state = 'failed';
    }
  }

  #stopPlayer() {
    this.#disposePlayer?.();
    this.#disposePlayer = null;
  }
}

function backLink() {
  return h('p', {}, h('a', { href: '#/sessions', class: 'link-button' }, '← All sessions'));
}

function recordingNote(recording) {
  const problems = [];
  if (recording.missing?.length) problems.push(`chunk(s) ${recording.missing.join(', ')} are missing from the audit trail: what they held is not shown`);
  if (!recording.final) problems.push('its last chunk is not there: the session is still open, or its end was lost');
  return problems.length === 0
    ? h('p', { class: 'muted small' }, `Complete: ${recording.chunks} chunk(s), exactly what the client's terminal was sent (after masking).`)
    : h('p', { class: 'recording-problem', role: 'note' }, `Incomplete recording: ${problems.join('; ')}.`);
}

function sessionTable(sessions) {
  if (sessions.length === 0) return null;
  return h('table', { class: 'sessions' },
    h('thead', {}, h('tr', {}, ['Started', 'Principal', 'Resource', 'Commands', 'Denied', 'Held', 'Recording', 'Ended'].map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, sessions.map((session) => h('tr', { dataset: { sessionId: session.id } },
      h('td', {}, h('a', { href: `#/sessions/${encodeURIComponent(session.id)}` }, clockText(session.started_at))),
      h('td', {}, namedText(session.principal?.sub ?? '?')),
      h('td', {}, namedText(session.resource?.name ?? '?')),
      h('td', {}, String(session.commands)),
      h('td', {}, String(session.denied)),
      h('td', {}, String(session.approvals)),
      h('td', {}, session.recording ? (session.recording.final && session.recording.missing.length === 0 ? '▶ recorded' : '▶ incomplete') : '—'),
      h('td', { class: 'muted' }, session.ended_at ? clockText(session.ended_at) : 'open')))));
}

function commandTable(commands) {
  if (commands.length === 0) return h('p', { class: 'muted' }, 'No command was decided in this session.');
  return h('ol', { class: 'session-commands' }, commands.map((command) => h('li', { class: 'session-command', dataset: { decisionId: command.decision_id ?? '', effect: command.effect ?? 'ran' } },
    h('div', { class: 'session-command-head' },
      h('span', { class: `status-badge ${EFFECT_CLASSES[command.effect] ?? ''}` }, EFFECT_LABELS[command.effect] ?? 'RAN'),
      h('code', { class: 'session-command-text' }, revealedText(command.text)[0]),
      h('time', { class: 'muted', datetime: command.time }, clockText(command.time))),
    command.reasons.length > 0 ? h('ul', { class: 'reasons' }, command.reasons.map((reason) => h('li', {}, namedText(reason)))) : null,
    command.approval ? h('p', { class: 'session-approval' }, 'Approval ', h('code', {}, command.approval.id), ` ${command.approval.status}`,
      command.approval.approvers.length > 0 ? ` by ${command.approval.approvers.map(namedText).join(', ')}` : '',
      command.approval.reason ? h('q', {}, namedText(command.approval.reason)) : null) : null,
    command.runs.map((run) => h('p', { class: 'muted small session-run' }, `ran: ${run.status ?? '?'}`,
      run.duration_ms !== undefined ? `, ${run.duration_ms} ms` : '',
      run.bytes !== undefined ? `, ${run.bytes} bytes` : '',
      run.masked_cells ? `, ${run.masked_cells} masked` : '',
      run.reused ? ', under an earlier decision of the same shape' : '',
      run.error ? h('span', {}, ` — ${namedText(run.error)}`) : null)),
    command.decision_id ? h('p', { class: 'muted small' }, 'decision ', h('code', {}, command.decision_id)) : null)));
}
