// The "what" of a request: the command exactly as the PEP sent it, laid out for reading.
// Invisible and direction-changing characters are shown as visible markers, so a command
// cannot look different from what it is.
import { h } from './dom-builder.js';
import { formatSql } from './sql-formatter.js';

const HIDDEN_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB]|[\u{E0000}-\u{E007F}]/gu;
/** Past this, laying out costs more than it helps; the text is shown as sent. */
const MAX_FORMATTED_CHARS = 64 * 1024;

/** Text as nodes, each hidden character replaced by a marked ⟨U+XXXX⟩. Returns [nodes, hiddenCount]. */
export function revealedText(text) {
  const nodes = [];
  let last = 0;
  let hidden = 0;
  for (const match of text.matchAll(HIDDEN_CHARACTERS)) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    const code = `U+${match[0].codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    nodes.push(h('span', { class: 'hidden-char', title: `invisible or direction-changing character ${code}` }, `⟨${code}⟩`));
    last = match.index + match[0].length;
    hidden++;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return [nodes, hidden];
}

function codeBlock(text, language) {
  const [nodes, hidden] = revealedText(text);
  return { node: h('pre', { class: `code ${language}`, tabindex: '0' }, h('code', {}, nodes)), hidden };
}

function hiddenWarning(count) {
  return count === 0 ? null : h('p', { class: 'hidden-warning', role: 'note' },
    `Careful: this command holds ${count} invisible or direction-changing character${count === 1 ? '' : 's'}, shown as ⟨U+…⟩.`);
}

function sqlView(sql) {
  const formatted = sql.length <= MAX_FORMATTED_CHARS ? formatSql(sql) : sql;
  const pretty = codeBlock(formatted, 'sql');
  const exact = codeBlock(sql, 'sql');
  exact.node.hidden = true;
  const toggle = h('button', { type: 'button', class: 'link-button', 'aria-pressed': 'false' }, 'Show exactly as sent');
  toggle.addEventListener('click', () => {
    const showExact = exact.node.hidden;
    exact.node.hidden = !showExact;
    pretty.node.hidden = showExact;
    toggle.setAttribute('aria-pressed', String(showExact));
    toggle.textContent = showExact ? 'Show formatted' : 'Show exactly as sent';
  });
  return h('div', { class: 'action action-sql' },
    h('div', { class: 'action-bar' }, h('span', { class: 'action-kind' }, 'SQL'), toggle),
    hiddenWarning(pretty.hidden), pretty.node, exact.node);
}

function textField(value) {
  if (value === undefined || value === null || value === '') return null;
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function requestView(kind, action) {
  const query = textField(action.query);
  const line = `${String(action.method ?? '').toUpperCase()} ${action.path ?? ''}${query ? `?${query.replace(/^\?/, '')}` : ''}`;
  const head = codeBlock(line, 'request');
  const body = textField(action.body);
  const bodyBlock = body === null ? null : codeBlock(body, 'json');
  const headers = textField(action.headers);
  const headersBlock = headers === null ? null : codeBlock(headers, 'json');
  return h('div', { class: `action action-${kind}` },
    h('div', { class: 'action-bar' }, h('span', { class: 'action-kind' }, kind === 'kubernetes' ? 'Kubernetes API' : 'HTTP API')),
    hiddenWarning(head.hidden + (bodyBlock?.hidden ?? 0) + (headersBlock?.hidden ?? 0)),
    head.node,
    headersBlock && h('div', { class: 'sub-label' }, 'Headers'), headersBlock?.node,
    bodyBlock && h('div', { class: 'sub-label' }, 'Body'), bodyBlock?.node);
}

/** The command of an approval record as a node. */
export function actionView(action) {
  switch (action?.type) {
    case 'sql':
      return sqlView(String(action.sql ?? ''));
    case 'shell': {
      const block = codeBlock(String(action.command ?? ''), 'shell');
      return h('div', { class: 'action action-shell' },
        h('div', { class: 'action-bar' }, h('span', { class: 'action-kind' }, 'Shell command')), hiddenWarning(block.hidden), block.node);
    }
    case 'kubernetes':
    case 'http':
      return requestView(action.type, action);
    case 'connect': {
      const parts = [`Open a ${action.protocol ?? ''} session`];
      if (action.database) parts.push(`to database ${action.database}`);
      if (action.user) parts.push(`as user ${action.user}`);
      if (action.application_name) parts.push(`(application ${action.application_name})`);
      const block = codeBlock(parts.join(' '), 'connect');
      return h('div', { class: 'action action-connect' },
        h('div', { class: 'action-bar' }, h('span', { class: 'action-kind' }, 'Session')), hiddenWarning(block.hidden), block.node);
    }
    default: {
      const block = codeBlock(JSON.stringify(action ?? null, null, 2), 'json');
      return h('div', { class: 'action' }, h('div', { class: 'action-bar' }, h('span', { class: 'action-kind' }, String(action?.type ?? 'Action'))), hiddenWarning(block.hidden), block.node);
    }
  }
}
