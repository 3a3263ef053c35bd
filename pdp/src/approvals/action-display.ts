// What the consoles need to show an action truthfully, computed once by the PDP when the
// approval opens and kept with it: for SQL, the lexer's spans (sql-display-spans.ts); for every
// action, the hidden characters it holds and, in words, why the card is flagged as suspicious.
import { hiddenCharactersIn, type HiddenCharacterCount } from './hidden-characters.ts';
import { sqlDisplaySpans, type SqlSpan } from './sql-display-spans.ts';

/** The kinds of MCP tool argument the PDP analyses (mcp-facts.ts). */
export type McpArgumentKind = 'sql' | 'shell' | 'path';

export interface McpArgumentDisplay {
  kind: McpArgumentKind;
  /** SQL: spans over the argument's text; absent when the scanner refused it. */
  sql_spans?: SqlSpan[];
}

export interface ActionDisplay {
  /** SQL only: spans over action.sql; absent when the scanner refused the text. */
  sql_spans?: SqlSpan[];
  /** MCP tool calls: the analysed arguments by name (SQL shown as SQL, shell as a command, the rest as JSON). */
  mcp_arguments?: Record<string, McpArgumentDisplay>;
  /** Hidden characters anywhere in the action (its text, parameters, headers, body), by name. */
  hidden: HiddenCharacterCount[];
  /** Why an approver should look twice; empty when nothing is suspicious. */
  suspicious: string[];
}

const BIDI = new Set(['LRE', 'RLE', 'PDF', 'LRO', 'RLO', 'LRI', 'RLI', 'FSI', 'PDI', 'LRM', 'RLM', 'ALM']);
const LINE_LOOKALIKES = new Set(['LS', 'PS', 'NEL', 'VT', 'FF']);

/**
 * `argumentKinds`: for an MCP tool call, the kind of each argument the PDP analysed (from the
 * enriched action), so SQL arguments get the lexer's spans as a SQL action does.
 */
export function actionDisplay(action: Record<string, unknown>, argumentKinds: Readonly<Record<string, McpArgumentKind>> = {}): ActionDisplay {
  const texts: string[] = [];
  collectStrings(action, texts, 0);
  const hidden = mergeCounts(texts.map(hiddenCharactersIn));
  const suspicious: string[] = [];
  const display: ActionDisplay = { hidden, suspicious };
  if (action.type === 'sql' && typeof action.sql === 'string') {
    const spans = sqlSpansNoting(action.sql, suspicious, 'this text');
    if (spans !== undefined) display.sql_spans = spans;
  }
  if (action.type === 'mcp' && Object.keys(argumentKinds).length > 0) {
    const args = typeof action.arguments === 'object' && action.arguments !== null ? (action.arguments as Record<string, unknown>) : {};
    display.mcp_arguments = Object.fromEntries(Object.entries(argumentKinds).map(([name, kind]): [string, McpArgumentDisplay] => {
      const value = Object.hasOwn(args, name) ? args[name] : undefined;
      if (kind !== 'sql' || typeof value !== 'string') return [name, { kind }];
      const spans = sqlSpansNoting(value, suspicious, `the ${name} argument`);
      return [name, spans === undefined ? { kind } : { kind, sql_spans: spans }];
    }));
  }
  const names = hidden.map((entry) => entry.name);
  if (names.some((name) => BIDI.has(name))) suspicious.push('bidirectional controls can show text in another order than the server reads it');
  if (names.some((name) => LINE_LOOKALIKES.has(name))) suspicious.push('characters that may look like line breaks are not line breaks to the server');
  if (names.length > 0) suspicious.push(`invisible or control characters: ${hidden.map((entry) => `${entry.name}×${entry.count}`).join(', ')}`);
  return display;
}

/** The lexer's spans over one SQL text, noting in `suspicious` what an approver must know about it. */
function sqlSpansNoting(sql: string, suspicious: string[], what: string): SqlSpan[] | undefined {
  // A copy: the kept spans are shared, frozen, and this display is the record's own.
  const spans = sqlDisplaySpans(sql)?.map(([start, end, kind]): SqlSpan => [start, end, kind]);
  if (spans === undefined) suspicious.push(`PostgreSQL's lexer cannot read ${what}, so it is shown without colours`);
  if (spans?.some(([, end, kind]) => kind === 'comment' && sql[end] === '\r' && sql[end + 1] !== '\n')) {
    suspicious.push('a -- comment ends at a lone carriage return (CR): what follows it is code the server runs');
  }
  return spans;
}

function collectStrings(value: unknown, into: string[], depth: number): void {
  if (depth > 32) return;
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, into, depth + 1);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      into.push(key);
      collectStrings(item, into, depth + 1);
    }
  }
}

function mergeCounts(lists: HiddenCharacterCount[][]): HiddenCharacterCount[] {
  const counts = new Map<string, number>();
  for (const list of lists) for (const { name, count } of list) counts.set(name, (counts.get(name) ?? 0) + count);
  return [...counts].map(([name, count]) => ({ name, count }));
}
