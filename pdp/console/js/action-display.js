// The "what" of a request: the command exactly as the PEP sent it, laid out for reading.
// For SQL, what is a comment, a literal or a quoted name comes from PostgreSQL's own lexer (the
// PDP sends its spans with the approval): this page lexes nothing that decides what runs.
// Invisible, control and direction-changing characters are shown by name (⟨CR⟩, ⟨RLO⟩ …), the
// card says why it is suspicious, and the exact text (escaped) is one click away.
import { h } from './dom-builder.js';
import { escapedText, hiddenCharacterName, HIDDEN_CHARACTER } from './hidden-characters.js';
import { formatSqlPieces } from './sql-formatter.js';

/** Past this, laying out costs more than it helps; the text is shown as sent. */
const MAX_FORMATTED_CHARS = 64 * 1024;
/** Characters PostgreSQL ends a -- comment at besides \n: shown, and broken after, as it reads them. */
const LINE_ENDS = new Set(['\r']);

/**
 * Text as nodes, each hidden character replaced by a marked ⟨NAME⟩ (and a CR followed by a line
 * break, as the server reads it). Returns [nodes, hiddenCount].
 */
export function revealedText(text) {
  const nodes = [];
  let last = 0;
  let hidden = 0;
  for (const match of text.matchAll(HIDDEN_CHARACTER)) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    const name = hiddenCharacterName(match[0]);
    const code = `U+${match[0].codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    nodes.push(h('span', { class: 'hidden-char', title: `invisible, control or direction-changing character ${code}`, dataset: { char: name } }, `⟨${name}⟩`));
    if (LINE_ENDS.has(match[0]) && text[match.index + 1] !== '\n') nodes.push('\n');
    last = match.index + match[0].length;
    hidden++;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return [nodes, hidden];
}

const PIECE_CLASSES = {
  'line-comment': 'sql-comment', 'block-comment': 'sql-comment', comment: 'sql-comment',
  string: 'sql-string', ident: 'sql-identifier', param: 'sql-parameter', keyword: 'sql-keyword',
};

/** Pieces {text, type} as a code block: comments, literals and names marked, the rest code. */
function piecesBlock(pieces, language) {
  let hidden = 0;
  const nodes = pieces.map((piece) => {
    const [revealed, count] = revealedText(piece.text);
    hidden += count;
    const kind = PIECE_CLASSES[piece.type];
    return kind === undefined ? h('span', { class: 'sql-code' }, revealed) : h('span', { class: kind }, revealed);
  });
  return { node: h('pre', { class: `code ${language}`, tabindex: '0' }, h('code', {}, nodes)), hidden };
}

function codeBlock(text, language) {
  return piecesBlock([{ text, type: 'code' }], language);
}

/** The exact text cut at the lexer's spans, nothing re-spaced. */
function exactSqlPieces(sql, spans) {
  if (!Array.isArray(spans)) return [{ text: sql, type: 'code' }];
  const pieces = [];
  let at = 0;
  for (const [start, end, kind] of spans) {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= at && end > start && end <= sql.length)) continue;
    if (start > at) pieces.push({ text: sql.slice(at, start), type: 'code' });
    pieces.push({ text: sql.slice(start, end), type: kind === 'identifier' ? 'ident' : kind === 'parameter' ? 'param' : kind });
    at = end;
  }
  if (at < sql.length) pieces.push({ text: sql.slice(at), type: 'code' });
  return pieces;
}

/** Why the card is suspicious: the PDP's findings, and whatever this page found itself. */
function suspicionNote(record, hiddenCount) {
  const reasons = [...(record?.action_display?.suspicious ?? [])].map(String);
  if (hiddenCount > 0 && reasons.length === 0) reasons.push(`${hiddenCount} invisible, control or direction-changing character${hiddenCount === 1 ? '' : 's'}`);
  if (reasons.length === 0) return null;
  return h('div', { class: 'hidden-warning suspicious-note', role: 'note' },
    h('strong', {}, 'Suspicious: read the exact text before you decide.'),
    h('ul', {}, reasons.map((reason) => h('li', {}, reason))));
}

/** A bar of views over one text: formatted (when given), exactly as sent, escaped. */
function viewSwitch(views) {
  const buttons = views.map((view, index) => {
    const button = h('button', { type: 'button', class: 'link-button view-choice', 'aria-pressed': String(index === 0), dataset: { view: view.name } }, view.label);
    button.addEventListener('click', () => {
      views.forEach((other, otherIndex) => {
        other.node.hidden = otherIndex !== index;
        buttons[otherIndex].setAttribute('aria-pressed', String(otherIndex === index));
      });
    });
    return button;
  });
  views.forEach((view, index) => { view.node.hidden = index !== 0; });
  return h('span', { class: 'view-choices' }, buttons);
}

function escapedBlock(text) {
  const node = h('pre', { class: 'code escaped', tabindex: '0' }, h('code', {}, escapedText(text)));
  return { node, hidden: 0 };
}

function copyButton(text) {
  const button = h('button', { type: 'button', class: 'link-button copy-exact' }, 'Copy exact text');
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Copy refused by the browser: use the escaped view';
    }
  });
  return button;
}

/** The values bound to $1, $2 … (extended protocol), each shown like the command itself. */
function parametersView(parameters) {
  if (!Array.isArray(parameters) || parameters.length === 0) return { node: null, hidden: 0 };
  let hidden = 0;
  const rows = parameters.map((parameter, index) => {
    const value = parameter?.value;
    let shown;
    if (value === null || value === undefined) shown = h('span', { class: 'sql-keyword' }, 'NULL');
    else {
      const [nodes, count] = revealedText(String(value));
      hidden += count;
      shown = h('span', { class: 'sql-string parameter-value' }, nodes);
    }
    return h('li', { class: 'parameter', dataset: { index: String(index + 1) } },
      h('code', { class: 'sql-parameter' }, `$${index + 1}`), ' = ', h('code', {}, shown),
      Number.isInteger(parameter?.type_oid) ? h('span', { class: 'muted small' }, ` (type oid ${parameter.type_oid})`) : null);
  });
  return { node: h('div', { class: 'parameters' }, h('div', { class: 'sub-label' }, 'Bound values'), h('ol', { class: 'parameter-list' }, rows)), hidden };
}

function sqlView(action, record) {
  const sql = String(action.sql ?? '');
  const spans = record?.action_display?.sql_spans;
  const lexed = Array.isArray(spans);
  const views = [];
  let hidden = 0;
  // Laid out only from the server's lexer spans: without them the text is shown as sent.
  if (lexed && sql.length <= MAX_FORMATTED_CHARS) {
    const pretty = piecesBlock(formatSqlPieces(sql, spans), 'sql');
    views.push({ name: 'formatted', label: 'Formatted', node: pretty.node });
  }
  const exact = piecesBlock(exactSqlPieces(sql, spans), 'sql');
  hidden = exact.hidden;
  views.push({ name: 'exact', label: 'Exactly as sent', node: exact.node });
  views.push({ name: 'escaped', label: 'Escaped', node: escapedBlock(sql).node });
  const parameters = parametersView(action.parameters);
  hidden += parameters.hidden;
  return h('div', { class: 'action action-sql' },
    h('div', { class: 'action-bar' }, h('span', { class: 'action-kind' }, 'SQL'), viewSwitch(views), copyButton(sql)),
    suspicionNote(record, hidden),
    lexed ? null : h('p', { class: 'muted small' }, 'Not coloured: the server sent no lexer spans for this text.'),
    ...views.map((view) => view.node),
    parameters.node);
}

function textField(value) {
  if (value === undefined || value === null || value === '') return null;
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function plainView(kind, label, text, record) {
  const exact = codeBlock(text, kind);
  const escaped = escapedBlock(text);
  const views = [{ name: 'exact', label: 'Exactly as sent', node: exact.node }, { name: 'escaped', label: 'Escaped', node: escaped.node }];
  return h('div', { class: `action action-${kind}` },
    h('div', { class: 'action-bar' }, h('span', { class: 'action-kind' }, label), viewSwitch(views), copyButton(text)),
    suspicionNote(record, exact.hidden), ...views.map((view) => view.node));
}

function requestView(kind, action, record) {
  const query = textField(action.query);
  const line = `${String(action.method ?? '').toUpperCase()} ${action.path ?? ''}${query ? `?${query.replace(/^\?/, '')}` : ''}`;
  const head = codeBlock(line, 'request');
  const body = textField(action.body);
  const bodyBlock = body === null ? null : codeBlock(body, 'json');
  const headers = textField(action.headers);
  const headersBlock = headers === null ? null : codeBlock(headers, 'json');
  return h('div', { class: `action action-${kind}` },
    h('div', { class: 'action-bar' }, h('span', { class: 'action-kind' }, kind === 'kubernetes' ? 'Kubernetes API' : 'HTTP API')),
    suspicionNote(record, head.hidden + (bodyBlock?.hidden ?? 0) + (headersBlock?.hidden ?? 0)),
    head.node,
    headersBlock && h('div', { class: 'sub-label' }, 'Headers'), headersBlock?.node,
    bodyBlock && h('div', { class: 'sub-label' }, 'Body'), bodyBlock?.node);
}

/** Whether a card must be flagged: the PDP's findings, or a hidden character this page sees. */
export function isSuspicious(record) {
  if ((record?.action_display?.suspicious ?? []).length > 0) return true;
  const texts = [];
  const walk = (value, depth) => {
    if (depth > 32) return;
    if (typeof value === 'string') texts.push(value);
    else if (value && typeof value === 'object') for (const item of Object.values(value)) walk(item, depth + 1);
  };
  walk(record?.action, 0);
  return texts.some((text) => text.search(HIDDEN_CHARACTER) !== -1);
}

/**
 * The SQL of one argument exactly as sent, coloured by the lexer's spans: nothing re-spaced, so
 * every hidden character keeps its badge beside the other arguments.
 */
function sqlArgumentBlock(sql, spans) {
  return piecesBlock(exactSqlPieces(sql, spans), 'sql');
}

/**
 * An MCP request: the method and what it names, the tool's annotations as the server declared
 * them, then each argument under its name: SQL as SQL, a shell command as the command, anything
 * else as indented JSON. "Exactly as sent" is the arguments' JSON, which the approval binds to.
 */
function mcpView(action, record) {
  const method = String(action.method ?? '');
  const named = [action.tool, action.uri, action.prompt].find((value) => typeof value === 'string');
  const shownArguments = record?.action_display?.mcp_arguments ?? {};
  const args = action.arguments && typeof action.arguments === 'object' ? action.arguments : null;
  let hidden = 0;
  const argumentRows = Object.entries(args ?? {}).map(([name, value]) => {
    const shown = Object.hasOwn(shownArguments, name) ? shownArguments[name] : undefined;
    let block;
    let kind = 'JSON';
    if (shown?.kind === 'sql' && typeof value === 'string') {
      block = sqlArgumentBlock(value, shown.sql_spans);
      kind = 'SQL';
    } else if (shown?.kind === 'shell' && typeof value === 'string') {
      block = codeBlock(value, 'shell');
      kind = 'Shell command';
    } else {
      block = codeBlock(JSON.stringify(value, null, 2) ?? String(value), 'json');
      if (shown?.kind === 'path') kind = 'Path';
    }
    hidden += block.hidden;
    return h('div', { class: 'mcp-argument', dataset: { argument: name, kind: shown?.kind ?? 'json' } },
      h('div', { class: 'sub-label' }, h('code', {}, name), h('span', { class: 'muted small' }, ` (${kind})`)),
      block.node);
  });
  const params = action.params === undefined ? null : codeBlock(JSON.stringify(action.params, null, 2) ?? '', 'json');
  hidden += params?.hidden ?? 0;
  const annotations = action.annotations && typeof action.annotations === 'object'
    ? Object.entries(action.annotations).map(([name, value]) => h('span', { class: 'mcp-annotation muted small' }, `${name}: ${JSON.stringify(value)}`))
    : [];
  const exactText = JSON.stringify(args ?? action.params ?? {}, null, 2);
  const formatted = h('div', { class: 'mcp-arguments' }, argumentRows.length > 0 || params ? [...argumentRows, params && h('div', { class: 'sub-label' }, 'Params'), params?.node] : h('p', { class: 'muted small' }, 'No arguments.'));
  const exact = codeBlock(exactText, 'json');
  const views = [
    { name: 'formatted', label: 'Formatted', node: formatted },
    { name: 'exact', label: 'Exactly as sent', node: exact.node },
    { name: 'escaped', label: 'Escaped', node: escapedBlock(exactText).node },
  ];
  const [title, titleHidden] = revealedText(`${method}${named === undefined ? '' : ` ${named}`}`);
  hidden += titleHidden;
  return h('div', { class: 'action action-mcp' },
    h('div', { class: 'action-bar' }, h('span', { class: 'action-kind' }, action.direction === 'to_client' ? 'MCP (server to agent)' : 'MCP'), viewSwitch(views), copyButton(exactText)),
    suspicionNote(record, hidden),
    h('div', { class: 'mcp-call' }, h('code', {}, title), annotations.length > 0 ? h('div', { class: 'mcp-annotations' }, annotations) : null),
    ...views.map((view) => view.node));
}

/** The command of an approval record as a node (`record` carries the PDP's display spans). */
export function actionView(action, record) {
  switch (action?.type) {
    case 'sql':
      return sqlView(action, record);
    case 'shell':
      return plainView('shell', 'Shell command', String(action.command ?? ''), record);
    case 'kubernetes':
    case 'http':
      return requestView(action.type, action, record);
    case 'connect': {
      const parts = [`Open a ${action.protocol ?? ''} session`];
      if (action.database) parts.push(`to database ${action.database}`);
      if (action.user) parts.push(`as user ${action.user}`);
      if (action.application_name) parts.push(`(application ${action.application_name})`);
      return plainView('connect', 'Session', parts.join(' '), record);
    }
    case 'mcp':
      return mcpView(action, record);
    default:
      return plainView('json', String(action?.type ?? 'Action'), JSON.stringify(action ?? null, null, 2), record);
  }
}
