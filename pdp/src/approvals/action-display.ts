// What the consoles need to show an action truthfully, computed once by the PDP when the
// approval opens and kept with it: for SQL, the lexer's spans (sql-display-spans.ts); for every
// action, the hidden characters it holds and, in words, why the card is flagged as suspicious.
import { hiddenCharactersIn, type HiddenCharacterCount } from './hidden-characters.ts';
import { sqlDisplaySpans, type SqlSpan } from './sql-display-spans.ts';

export interface ActionDisplay {
  /** SQL only: spans over action.sql; absent when the scanner refused the text. */
  sql_spans?: SqlSpan[];
  /** Hidden characters anywhere in the action (its text, parameters, headers, body), by name. */
  hidden: HiddenCharacterCount[];
  /** Why an approver should look twice; empty when nothing is suspicious. */
  suspicious: string[];
}

const BIDI = new Set(['LRE', 'RLE', 'PDF', 'LRO', 'RLO', 'LRI', 'RLI', 'FSI', 'PDI', 'LRM', 'RLM', 'ALM']);
const LINE_LOOKALIKES = new Set(['LS', 'PS', 'NEL', 'VT', 'FF']);

export function actionDisplay(action: Record<string, unknown>): ActionDisplay {
  const texts: string[] = [];
  collectStrings(action, texts, 0);
  const hidden = mergeCounts(texts.map(hiddenCharactersIn));
  const suspicious: string[] = [];
  const display: ActionDisplay = { hidden, suspicious };
  if (action.type === 'sql' && typeof action.sql === 'string') {
    const spans = sqlDisplaySpans(action.sql);
    if (spans !== undefined) display.sql_spans = spans;
    else suspicious.push('PostgreSQL\'s lexer cannot read this text, so it is shown without colours');
    const sql = action.sql;
    if (spans?.some(([, end, kind]) => kind === 'comment' && sql[end] === '\r' && sql[end + 1] !== '\n')) {
      suspicious.push('a -- comment ends at a lone carriage return (CR): what follows it is code the server runs');
    }
  }
  const names = hidden.map((entry) => entry.name);
  if (names.some((name) => BIDI.has(name))) suspicious.push('bidirectional controls can show text in another order than the server reads it');
  if (names.some((name) => LINE_LOOKALIKES.has(name))) suspicious.push('characters that may look like line breaks are not line breaks to the server');
  if (names.length > 0) suspicious.push(`invisible or control characters: ${hidden.map((entry) => `${entry.name}×${entry.count}`).join(', ')}`);
  return display;
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
