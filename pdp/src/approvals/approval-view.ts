import type { ActionDisplay } from './action-display.ts';
import type { SqlSpan } from './sql-display-spans.ts';
import type { ApprovalRecord } from './approval-store.ts';

/** A record as clients see it: everything but the binding hash, which only the PDP compares. */
export type ApprovalRecordView = Omit<ApprovalRecord, 'binding'> & {
  /** Present when the action was shortened for a list: ask for the approval by id for all of it. */
  action_truncated?: { shown_chars: number; total_chars: number };
};

export interface ApprovalViewOptions {
  /**
   * Lists (queue pages, events, history) carry at most this many characters of the action's
   * text, so one principal's long commands cannot swell what every console receives.
   */
  readonly listedActionChars?: number;
}

export function approvalRecordView(record: ApprovalRecord, options: ApprovalViewOptions = {}): ApprovalRecordView {
  const { binding: _binding, ...view } = record;
  const budget = options.listedActionChars;
  if (budget === undefined) return view;
  const total = textLength(record.action, 0);
  if (total <= budget) return view;
  const state = { left: budget };
  const action = shorten(record.action, state, 0) as Record<string, unknown>;
  const shown = budget - state.left;
  return {
    ...view,
    action,
    ...(record.action_display === undefined ? {} : { action_display: clippedDisplay(record.action_display, record.action, action) }),
    action_truncated: { shown_chars: shown, total_chars: total },
  };
}

function textLength(value: unknown, depth: number): number {
  if (typeof value === 'string') return value.length;
  if (depth > 32 || typeof value !== 'object' || value === null) return 0;
  let sum = 0;
  const items = Array.isArray(value) ? value : Object.entries(value).filter(([key]) => key !== 'type').map(([, item]) => item);
  for (const item of items) sum += textLength(item, depth + 1);
  return sum;
}

/** The action with its strings cut, in order, once the budget is spent (the type is always kept). */
function shorten(value: unknown, state: { left: number }, depth: number): unknown {
  if (typeof value === 'string') {
    const kept = value.slice(0, Math.max(0, state.left));
    state.left -= kept.length;
    return kept;
  }
  if (depth > 32 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      if (state.left <= 0) break;
      items.push(shorten(item, state, depth + 1));
    }
    return items;
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, key === 'type' ? item : shorten(item, state, depth + 1)]));
}

/** Spans cut to the shortened SQL (a span running past the cut ends at it), an MCP call's SQL arguments' too. */
function clippedDisplay(display: ActionDisplay, full: Record<string, unknown>, shortened: Record<string, unknown>): ActionDisplay {
  let clipped = display;
  if (display.sql_spans !== undefined && typeof shortened.sql === 'string' && typeof full.sql === 'string') {
    clipped = { ...clipped, sql_spans: clipSpans(display.sql_spans, shortened.sql.length) };
  }
  if (display.mcp_arguments !== undefined) {
    const args = asRecord(shortened.arguments);
    clipped = {
      ...clipped,
      mcp_arguments: Object.fromEntries(Object.entries(display.mcp_arguments).map(([name, argument]) => {
        if (argument.sql_spans === undefined) return [name, argument];
        const text = Object.hasOwn(args, name) ? args[name] : undefined;
        return [name, { ...argument, sql_spans: clipSpans(argument.sql_spans, typeof text === 'string' ? text.length : 0) }];
      })),
    };
  }
  return clipped;
}

function clipSpans(spans: readonly SqlSpan[], end: number): SqlSpan[] {
  return spans.filter(([start]) => start < end).map(([start, stop, kind]) => [start, Math.min(stop, end), kind]);
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
