/**
 * The cursor a statement is about, as the PDP's enrichment names it (`cursor`, see
 * docs/policy-input.md): DECLARE opens it, FETCH and MOVE read it, CLOSE ends it. Read from the
 * wire and checked: anything malformed is undefined, so the statement's cursor goes untracked and
 * a FETCH of it is masked strictly.
 */

export type CursorOperation = 'declare' | 'fetch' | 'move' | 'close';

export interface CursorFacts {
  /** As the server knows it (unquoted names already lower-cased by the PDP's parser); null for CLOSE ALL. */
  readonly name: string | null;
  readonly operation: CursorOperation;
  /** DECLARE … WITH HOLD: the cursor survives the commit of its transaction. */
  readonly hold: boolean;
}

const OPERATIONS: ReadonlySet<string> = new Set<CursorOperation>(['declare', 'fetch', 'move', 'close']);

/** The `cursor` of one enrichment statement; undefined when absent or malformed. */
export function readCursorFacts(statement: unknown): CursorFacts | undefined {
  if (!isObject(statement) || !isObject(statement.cursor)) return undefined;
  const { name, operation, hold } = statement.cursor;
  if (typeof operation !== 'string' || !OPERATIONS.has(operation)) return undefined;
  if (!(name === null || (typeof name === 'string' && name !== ''))) return undefined;
  // Only CLOSE ALL names no cursor.
  if (name === null && operation !== 'close') return undefined;
  return { name, operation: operation as CursorOperation, hold: hold === true };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
