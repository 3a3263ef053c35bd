// The command of an approval as terminal lines, showing what the server will parse: for SQL,
// comments, literals and quoted names are the PDP's lexer spans (PostgreSQL's own scanner), a
// comment dim and marked `--`/`/*` as sent, code in cyan; every hidden character is a ⟨NAME⟩
// badge in alert colours, and a CR breaks the line as PostgreSQL's comment rules read it.
import type { SqlSpan } from '../../approvals/sql-display-spans.ts';
import type { ApprovalRecordView } from '../../approvals/approval-view.ts';
import { HIDDEN_CHARACTER, hiddenCharacterName } from '../../approvals/hidden-characters.ts';
import { actionText } from './approval-text.ts';
import { mcpTextParts, type McpTextPart } from './mcp-action-text.ts';
import { seg, type Segment, type Style } from './terminal-text.ts';

type Line = Segment[];

const STYLES: Record<string, Style[]> = {
  comment: ['dim', 'italic'],
  string: ['yellow'],
  identifier: ['green'],
  keyword: ['cyan', 'bold'],
  parameter: ['cyan', 'bold'],
  code: ['cyan'],
};

/** Pieces {text, kind} of `text`: the spans' kinds, `code` between them. */
function pieces(text: string, spans: readonly SqlSpan[] | undefined): { text: string; kind: string }[] {
  if (spans === undefined) return [{ text, kind: 'code' }];
  const out: { text: string; kind: string }[] = [];
  let at = 0;
  for (const [start, end, kind] of spans) {
    if (!(start >= at && end > start && end <= text.length)) continue;
    if (start > at) out.push({ text: text.slice(at, start), kind: 'code' });
    out.push({ text: text.slice(start, end), kind });
    at = end;
  }
  if (at < text.length) out.push({ text: text.slice(at), kind: 'code' });
  return out;
}

/** Lines of styled segments, hard-wrapped at `width` columns. */
function layout(parts: { text: string; kind: string }[], width: number): Line[] {
  const lines: Line[] = [[]];
  let column = 0;
  const add = (text: string, styles: Style[]): void => {
    for (const char of text) {
      if (column >= width) {
        lines.push([]);
        column = 0;
      }
      lines.at(-1)!.push(seg(char, ...styles));
      column += 1;
    }
  };
  const newline = (): void => {
    lines.push([]);
    column = 0;
  };
  for (const part of parts) {
    const styles = STYLES[part.kind] ?? STYLES.code!;
    let last = 0;
    const text = part.text;
    for (const match of text.matchAll(HIDDEN_CHARACTER)) {
      addPlain(text.slice(last, match.index), styles);
      const badge = `⟨${hiddenCharacterName(match[0])}⟩`;
      if (column + badge.length > width && column > 0) newline();
      lines.at(-1)!.push(seg(badge, 'alert'));
      column += badge.length;
      if (match[0] === '\r' && text[match.index + 1] !== '\n') newline();
      last = match.index + match[0].length;
    }
    addPlain(text.slice(last), styles);
  }
  return lines.map(merge);

  function addPlain(text: string, styles: Style[]): void {
    const rows = text.split('\n');
    rows.forEach((row, index) => {
      if (index > 0) newline();
      add(row.replace(/\t/g, ' '), styles);
    });
  }
}

/** Adjacent segments of one style as one. */
function merge(line: Line): Line {
  const out: Segment[] = [];
  for (const segment of line) {
    const previous = out.at(-1);
    if (previous !== undefined && (previous.styles ?? []).join() === (segment.styles ?? []).join()) out[out.length - 1] = seg(previous.text + segment.text, ...(previous.styles ?? []));
    else out.push(segment);
  }
  return out;
}

/** The action as lines: the command (SQL by the lexer's spans), then the bound values. */
export function actionLines(record: ApprovalRecordView, width: number): Line[] {
  const action = record.action;
  const sql = action.type === 'sql' && typeof action.sql === 'string' ? action.sql : undefined;
  const lines = action.type === 'mcp'
    ? layout(mcpTextParts(action, record.action_display).flatMap(mcpPieces), Math.max(10, width))
    : layout(pieces(sql ?? actionText(record), sql === undefined ? undefined : record.action_display?.sql_spans), Math.max(10, width));
  const parameters = Array.isArray(action.parameters) ? (action.parameters as { value?: unknown; type_oid?: unknown }[]) : [];
  parameters.forEach((parameter, index) => {
    const value = parameter?.value;
    const shown = value === null || value === undefined ? [{ text: 'NULL', kind: 'keyword' }] : [{ text: String(value), kind: 'string' }];
    const bound = layout([{ text: `$${index + 1} = `, kind: 'parameter' }, ...shown], Math.max(10, width));
    lines.push(...bound);
  });
  return lines;
}

/** An MCP request's part as pieces: SQL by its lexer spans, argument names as names, the rest as code. */
function mcpPieces(part: McpTextPart): { text: string; kind: string }[] {
  if (part.kind === 'sql') return pieces(part.text, part.spans);
  return [{ text: part.text, kind: part.kind === 'label' ? 'identifier' : part.kind === 'heading' ? 'keyword' : 'code' }];
}

/** Why an approver should look twice: the PDP's findings, or a hidden character seen here. */
export function suspicions(record: ApprovalRecordView): string[] {
  const reasons = [...(record.action_display?.suspicious ?? [])];
  const hides = (value: unknown, depth: number): boolean =>
    depth < 32 && (typeof value === 'string' ? value.search(HIDDEN_CHARACTER) !== -1 : typeof value === 'object' && value !== null && Object.values(value).some((item) => hides(item, depth + 1)));
  if (reasons.length === 0 && hides(record.action, 0)) reasons.push('invisible or control characters in the command');
  return reasons;
}
