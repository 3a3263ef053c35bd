import type { ApprovalRecordView } from '../../approvals/approval-view.ts';
import { ago, countdown, shortId, votes, where, whatLine, who, why } from './approval-text.ts';
import type { EventMessage } from './approvals-socket-client.ts';
import { clip, printableLine } from './terminal-text.ts';

/** Plain-text output of the non-interactive commands: aligned columns, no colour, no controls. */

const WHAT_WIDTH = 120;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => [...row[column]!].length)));
  const line = (cells: string[]): string => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column]! - [...cell].length))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** `portcullis approvals list`: the pending queue, soonest expiry first. */
export function pendingTable(pending: readonly ApprovalRecordView[], now: number): string {
  if (pending.length === 0) return 'no pending approvals\n';
  return table(
    ['ID', 'EXPIRES', 'WHERE', 'WHO', 'VOTES', 'WHY', 'WHAT'],
    pending.map((record) => [shortId(record), countdown(record.expires_at, now), where(record), who(record), votes(record), why(record), clip(whatLine(record), WHAT_WIDTH)]),
  );
}

/** `portcullis approvals history`: recently resolved approvals, newest first. */
export function historyTable(resolved: readonly ApprovalRecordView[], now: number): string {
  if (resolved.length === 0) return 'no resolved approvals in the recent log\n';
  return table(
    ['ID', 'STATUS', 'RESOLVED', 'WHERE', 'WHO', 'BY', 'WHAT'],
    resolved.map((record) => [
      shortId(record),
      record.status,
      ago(record.resolved_at ?? record.created_at, now),
      where(record),
      who(record),
      record.decisions.map((decision) => `${printableLine(decision.approver)}${decision.verdict === 'deny' ? ' (deny)' : ''}`).join(', ') || '-',
      clip(whatLine(record), WHAT_WIDTH),
    ]),
  );
}

/** `portcullis approvals watch`: one line per event. */
export function eventLine(event: EventMessage): string {
  const record = event.approval;
  const detail = event.event === 'requested'
    ? `${who(record)} on ${where(record)}: ${clip(whatLine(record), WHAT_WIDTH)}`
    : `${record.status} (${votes(record)}) ${who(record)} on ${where(record)}`;
  return `${new Date().toISOString()}  ${event.event.padEnd(9)}  ${record.id}  ${detail}\n`;
}
