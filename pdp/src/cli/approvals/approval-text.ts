import type { ApprovalRecordView } from '../../approvals/approval-view.ts';
import { mcpTextParts } from './mcp-action-text.ts';
import { printableLine } from './terminal-text.ts';

/** How an approval reads to a person: short forms for queue rows, full forms for details. */

const PRODUCTION = /^prod(uction)?$/i;

export function isProduction(record: ApprovalRecordView): boolean {
  return PRODUCTION.test(record.resource.environment ?? '');
}

export function shortId(record: Pick<ApprovalRecordView, 'id'>): string {
  return record.id.slice(0, 8);
}

/** `agent-ops (agent)` */
export function who(record: ApprovalRecordView): string {
  return `${printableLine(record.requester.sub)} (${record.requester.kind})`;
}

/** `orders-db (postgres, production)` */
export function where(record: ApprovalRecordView): string {
  const { name, type, environment } = record.resource;
  return `${printableLine(name)} (${printableLine(type)}${environment ? `, ${printableLine(environment)}` : ''})`;
}

/** The first reason code, and how many more. */
export function why(record: ApprovalRecordView): string {
  const [first, ...rest] = record.reasons;
  if (first === undefined) return '';
  return `${printableLine(first.code)}${rest.length > 0 ? ` +${rest.length}` : ''}`;
}

export function approvalsCount(record: ApprovalRecordView): number {
  return record.decisions.filter((decision) => decision.verdict === 'approve').length;
}

/** `1/2`: approvals so far of the quorum. */
export function votes(record: ApprovalRecordView): string {
  return `${approvalsCount(record)}/${record.quorum}`;
}

/** One line naming the command. */
export function whatLine(record: ApprovalRecordView): string {
  return printableLine(record.action_summary || actionText(record));
}

/** The whole command as the approver must judge it (may span lines; controls are shown). */
export function actionText(record: ApprovalRecordView): string {
  const action = record.action;
  const text = (value: unknown): string => (typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value));
  switch (action.type) {
    case 'sql':
      return text(action.sql);
    case 'shell':
      return text(action.command);
    case 'kubernetes':
    case 'http': {
      const query = action.query === undefined ? '' : typeof action.query === 'string' ? `?${action.query}` : `?${new URLSearchParams(action.query as Record<string, string>).toString()}`;
      const body = action.body === undefined ? '' : `\n${JSON.stringify(action.body, null, 2)}`;
      return `${text(action.method).toUpperCase()} ${text(action.path)}${query}${body}`;
    }
    case 'mcp':
      return mcpTextParts(action, record.action_display).map((part) => part.text).join('');
    default:
      return record.action_summary || JSON.stringify(action);
  }
}

/** Time left until `expiresAt`: `14:32`, `1h05m`, or `expired`. */
export function countdown(expiresAt: string, now: number): string {
  const left = Math.floor((Date.parse(expiresAt) - now) / 1000);
  if (!Number.isFinite(left)) return '?';
  if (left <= 0) return 'expired';
  if (left >= 3600) return `${Math.floor(left / 3600)}h${String(Math.floor((left % 3600) / 60)).padStart(2, '0')}m`;
  return `${String(Math.floor(left / 60)).padStart(2, '0')}:${String(left % 60).padStart(2, '0')}`;
}

/** `3m ago`, `2h ago` … for times in the past. */
export function ago(at: string | undefined, now: number): string {
  if (at === undefined) return '';
  const seconds = Math.max(0, Math.floor((now - Date.parse(at)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** Who voted how: `bob approved ("ticket 42")`, `carol denied ("not now")`. */
export function voteLines(record: ApprovalRecordView): string[] {
  return record.decisions.map((decision) =>
    `${printableLine(decision.approver)}${decision.kind !== undefined && decision.kind !== 'human' ? ` (${decision.kind})` : ''} ${decision.verdict === 'approve' ? 'approved' : 'denied'}${decision.reason ? ` ("${printableLine(decision.reason)}")` : ''}`,
  );
}

/** The result of a vote in a sentence: `approved 0b6f1c2a: 1 of 1 approvals, now approved`. */
export function voteOutcome(verdict: 'approve' | 'deny', record: ApprovalRecordView): string {
  return `${verdict === 'approve' ? 'approved' : 'denied'} ${shortId(record)}: ${approvalsCount(record)} of ${record.quorum} approvals, now ${record.status}`;
}
