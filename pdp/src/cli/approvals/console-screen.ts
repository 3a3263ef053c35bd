import type { ApprovalRecordView } from '../../approvals/approval-view.ts';
import { actionText, ago, approvalsCount, countdown, isProduction, shortId, voteLines, whatLine, why } from './approval-text.ts';
import type { ConnectionState } from './approvals-socket-client.ts';
import { escapedText } from '../../approvals/hidden-characters.ts';
import { actionLines, suspicions } from './action-lines.ts';
import { fit, paint, printableLine, seg, segmentsWidth, wrap, type Segment } from './terminal-text.ts';

/** Everything the full-screen console shows; the screen is a pure function of it. */
export interface ConsoleView {
  readonly url: string;
  readonly connection: ConnectionState;
  readonly principal?: { sub: string; roles: readonly string[] } | undefined;
  readonly mode: 'queue' | 'history';
  readonly pending: readonly ApprovalRecordView[];
  readonly selected: number;
  readonly history?: readonly ApprovalRecordView[] | 'loading' | undefined;
  readonly prompt?: { verdict: 'approve' | 'deny'; approval: ApprovalRecordView; text: string } | undefined;
  readonly status?: { text: string; tone: 'ok' | 'error' | 'info' } | undefined;
  /** The selected command shown escaped (every invisible or non-ASCII character as \uXXXX). */
  readonly escaped?: boolean;
  /** The server has more of the queue than these records (it sends pages). */
  readonly more?: boolean;
  readonly now: number;
}

type Line = Segment[];

const COLUMNS = { expires: 9, where: 30, who: 22, votes: 7 };
/** The command gets at least this much of a row; the reason code column only what is left. */
const WHAT_MIN = 48;
const WHY_MAX = 46;

/** A column of `width`: the text cut to leave two spaces before the next one (width 0: no column). */
const cell = (text: string, width: number): string => (width <= 0 ? '' : `${fit(text, width - 2)}  `);

function whyWidth(width: number): number {
  const room = Math.min(WHY_MAX, width - 2 - Object.values(COLUMNS).reduce((sum, value) => sum + value, 0) - WHAT_MIN);
  return room < 16 ? 0 : room;
}
const DETAIL_MIN_LINES = 9;

/** Renders the console as exactly `height` lines of at most `width` columns. */
export function renderScreen(view: ConsoleView, width: number, height: number, color: boolean): string[] {
  const top: Line[] = [header(view, width), [seg('─'.repeat(width), 'dim')]];
  const bottom: Line[] = [statusLine(view), footer(view)];
  const room = Math.max(0, height - top.length - bottom.length);
  const body = view.mode === 'history' ? historyBody(view, room) : queueBody(view, width, room);
  const lines = [...top, ...body.slice(0, room)];
  while (lines.length < height - bottom.length) lines.push([]);
  lines.push(...bottom);
  return lines.slice(0, height).map((line) => paint(line, width, color));
}

function header(view: ConsoleView, width: number): Line {
  const who = view.principal ? `${printableLine(view.principal.sub)} (${view.principal.roles.map(printableLine).join(', ')})` : '…';
  const left: Line = [seg(' PORTCULLIS ', 'reverse', 'bold'), seg(` approvals · ${who} · ${view.url.replace(/^https?:\/\//, '')}`)];
  const state = connectionBadge(view.connection);
  const gap = Math.max(1, width - segmentsWidth(left) - segmentsWidth(state));
  return [...left, seg(' '.repeat(gap)), ...state];
}

function connectionBadge(state: ConnectionState): Line {
  switch (state.kind) {
    case 'live':
      return [seg('● live', 'green', 'bold')];
    case 'connecting':
      return [seg('◌ connecting…', 'yellow')];
    case 'reconnecting':
      return [seg(` ◌ reconnecting (attempt ${state.attempt}, ${(state.delayMs / 1000).toFixed(1)} s): ${printableLine(state.reason)} `, 'yellow', 'reverse')];
    case 'closed':
      return [seg(` ✗ disconnected: ${printableLine(state.reason)} `, 'alert')];
  }
}

function queueBody(view: ConsoleView, width: number, room: number): Line[] {
  const lines: Line[] = [];
  const why = whyWidth(width);
  const columnTitles = ['EXPIRES', 'WHERE', 'WHO', 'VOTES'].map((title, index) => cell(title, Object.values(COLUMNS)[index]!)).join('') + cell('WHY', why);
  lines.push([seg(`  ${columnTitles}WHAT  `, 'dim'), seg(`${view.pending.length}${view.more ? '+' : ''} pending`, 'bold')]);
  if (view.pending.length === 0) {
    lines.push([seg('  nothing is waiting for approval', 'dim')]);
    return lines;
  }
  // The list gets what the details panel leaves, and scrolls to keep the selection in sight.
  const listRoom = Math.max(1, Math.min(view.pending.length, room - 1 - 1 - DETAIL_MIN_LINES));
  const first = Math.min(Math.max(0, view.selected - listRoom + 1), Math.max(0, view.pending.length - listRoom));
  for (let index = first; index < first + listRoom && index < view.pending.length; index += 1) {
    lines.push(queueRow(view.pending[index]!, index === view.selected, view.now, why));
  }
  lines.push([seg('─'.repeat(width), 'dim')]);
  const selected = view.pending[view.selected];
  if (selected !== undefined) lines.push(...details(selected, width, room - lines.length, view.now, view.escaped === true));
  return lines;
}

function queueRow(record: ApprovalRecordView, selected: boolean, now: number, whyColumn: number): Line {
  const emphasis = selected ? (['bold'] as const) : ([] as const);
  const left = countdown(record.expires_at, now);
  const urgent = Date.parse(record.expires_at) - now < 60_000;
  return [
    seg(selected ? '▶ ' : '  ', 'cyan', 'bold'),
    seg(cell(left, COLUMNS.expires), ...(urgent ? (['red', 'bold'] as const) : emphasis)),
    ...whereCell(record, COLUMNS.where, selected),
    seg(cell(`${printableLine(record.requester.sub)} (${record.requester.kind})`, COLUMNS.who), ...emphasis),
    seg(cell(`${approvalsCount(record)}/${record.quorum}`, COLUMNS.votes), ...emphasis),
    seg(cell(why(record), whyColumn), 'dim'),
    ...(suspicions(record).length > 0 ? [seg('⚠ SUSPICIOUS', 'alert'), seg(' ')] : []),
    seg(whatLine(record), ...emphasis),
  ];
}

/** The resource name with its environment beside it; production stands out. */
function whereCell(record: ApprovalRecordView, width: number, selected: boolean): Line {
  const environment = record.resource.environment ? printableLine(record.resource.environment) : '';
  const badge = isProduction(record) ? ` ${environment.toUpperCase()} ` : environment;
  const nameWidth = Math.max(4, width - [...badge].length - 3);
  const name = fit(printableLine(record.resource.name), nameWidth);
  return [
    seg(`${name} `, ...(selected ? (['bold'] as const) : [])),
    seg(badge, ...(isProduction(record) ? (['alert'] as const) : (['dim'] as const))),
    seg(' '.repeat(Math.max(1, width - nameWidth - 1 - [...badge].length))),
  ];
}

function details(record: ApprovalRecordView, width: number, room: number, now: number, escaped: boolean): Line[] {
  const label = (text: string): Segment => seg(fit(text, 9), 'dim');
  const lines: Line[] = [];
  lines.push([label('id'), seg(record.id), seg(`   requested ${ago(record.created_at, now)}   decision ${record.decision_id}`, 'dim')]);
  lines.push([label('who'), seg(`${printableLine(record.requester.sub)}`, 'bold'), seg(` (${record.requester.kind})${record.requester.iss ? ` · issuer ${printableLine(record.requester.iss)}` : ''}`, 'dim')]);
  lines.push([
    label('where'),
    seg(`${printableLine(record.resource.name)} `, 'bold'),
    seg(`${printableLine(record.resource.type)} `, 'dim'),
    ...(record.resource.environment ? [seg(isProduction(record) ? ` ${printableLine(record.resource.environment).toUpperCase()} ` : printableLine(record.resource.environment), isProduction(record) ? 'alert' : 'yellow')] : []),
    ...(record.session?.id ? [seg(`  session ${printableLine(record.session.id)}${record.session.client_addr ? ` from ${printableLine(record.session.client_addr)}` : ''}`, 'dim')] : []),
  ]);
  for (const [index, reason] of record.reasons.entries()) {
    lines.push([label(index === 0 ? 'why' : ''), seg(printableLine(reason.code), 'yellow'), seg(` ${printableLine(reason.message)}`)]);
  }
  const left = countdown(record.expires_at, now);
  lines.push([
    label('votes'),
    seg(`${approvalsCount(record)} of ${record.quorum} approval${record.quorum === 1 ? '' : 's'}`, 'bold'),
    seg(` · approver roles ${record.approver_roles.map(printableLine).join(', ') || '(none)'} · expires `, 'dim'),
    seg(left, ...(Date.parse(record.expires_at) - now < 60_000 ? (['red', 'bold'] as const) : (['bold'] as const))),
  ]);
  for (const [index, vote] of voteLines(record).entries()) {
    const approved = record.decisions[index]?.verdict === 'approve';
    lines.push([label(''), seg(`${approved ? '✓' : '✗'} ${vote}`, approved ? 'green' : 'red')]);
  }
  for (const reason of suspicions(record)) lines.push([label('⚠'), seg(` SUSPICIOUS `, 'alert'), seg(` ${printableLine(reason)}`, 'red', 'bold')]);
  if (record.action_truncated !== undefined) {
    lines.push([label(''), seg(`only the first ${record.action_truncated.shown_chars} of ${record.action_truncated.total_chars} characters are shown: f loads the whole command (needed to approve)`, 'yellow')]);
  }
  const text: Line[] = escaped
    ? wrap(escapedText(record.action.type === 'sql' && typeof record.action.sql === 'string' ? record.action.sql : actionText(record)), Math.max(10, width - 9)).map((line) => [seg(line, 'cyan')])
    : actionLines(record, Math.max(10, width - 9));
  const textRoom = Math.max(1, room - lines.length);
  const shown = text.length > textRoom ? text.slice(0, textRoom - 1) : text;
  shown.forEach((line, index) => lines.push([label(index === 0 ? (escaped ? 'escaped' : 'what') : ''), ...line]));
  if (shown.length < text.length) lines.push([label(''), seg(`… ${text.length - shown.length} more line(s)`, 'dim')]);
  return lines;
}

function historyBody(view: ConsoleView, room: number): Line[] {
  const lines: Line[] = [[seg(`  ${cell('STATUS', 10)}${cell('RESOLVED', 10)}${cell('WHERE', 30)}${cell('WHO', 22)}${cell('BY', 22)}WHAT  `, 'dim'), seg('history', 'bold')]];
  if (view.history === undefined || view.history === 'loading') return [...lines, [seg('  loading…', 'dim')]];
  if (view.history.length === 0) return [...lines, [seg('  nothing resolved in the recent log', 'dim')]];
  for (const record of view.history.slice(0, Math.max(0, room - 1))) {
    const tone = record.status === 'denied' || record.status === 'expired' ? 'red' : 'green';
    lines.push([
      seg('  '),
      seg(cell(record.status, 10), tone),
      seg(cell(ago(record.resolved_at ?? record.created_at, view.now), 10), 'dim'),
      seg(cell(`${printableLine(record.resource.name)}${record.resource.environment ? ` (${printableLine(record.resource.environment)})` : ''}`, 30), ...(isProduction(record) ? (['red'] as const) : [])),
      seg(cell(`${printableLine(record.requester.sub)} (${record.requester.kind})`, 22)),
      seg(cell(record.decisions.map((decision) => printableLine(decision.approver)).join(', ') || '-', 22), 'dim'),
      seg(whatLine(record)),
    ]);
  }
  return lines;
}

function statusLine(view: ConsoleView): Line {
  if (view.status === undefined) return [];
  const tone = view.status.tone === 'error' ? 'red' : view.status.tone === 'ok' ? 'green' : 'yellow';
  return [seg(` ${printableLine(view.status.text)}`, tone, 'bold')];
}

function footer(view: ConsoleView): Line {
  if (view.prompt !== undefined) {
    const { verdict, approval, text } = view.prompt;
    return [
      seg(verdict === 'approve' ? ' APPROVE ' : ' DENY ', verdict === 'approve' ? 'green' : 'red', 'reverse', 'bold'),
      seg(` ${shortId(approval)} — reason${verdict === 'approve' ? ' (optional)' : ' (required)'}: `),
      seg(printableLine(text)),
      seg('█'),
      seg('   Enter send · Esc cancel', 'dim'),
    ];
  }
  const key = (name: string, what: string): Segment[] => [seg(` ${name} `, 'reverse'), seg(` ${what}  `)];
  if (view.mode === 'history') return [...key('h', 'back to the queue'), ...key('q', 'quit')];
  return [...key('↑/↓', 'select'), ...key('a', 'approve'), ...key('d', 'deny'), ...key('x', 'exact/escaped'), ...key('f', 'full text'), ...key('h', 'history'), ...key('q', 'quit')];
}
