import type { ResultMasker } from './result-masker.ts';

/** The decision a statement runs under, as its record names it. */
export interface RunDecision {
  readonly id: string;
  /** It is an earlier decision of the same shape (a reuse grant), not one of its own. */
  readonly reused: boolean;
}

/** One statement's run as the relay sees it, from forwarding to its completion. */
export class StatementRun {
  readonly startedAt = performance.now();
  /** Rows reported by CommandComplete tags (or DataRows counted when a portal is suspended). */
  rows = 0;
  dataRows = 0;
  /** Result bytes sent to the client (DataRow and CopyData, after masking). */
  bytes = 0;
  readonly tags: string[] = [];
  error: string | undefined;
  private readonly maskedAtStart: number;

  constructor(
    readonly text: string,
    /** Undefined only for an empty statement, which runs nothing and is not recorded. */
    readonly decision: RunDecision | undefined,
    readonly masker: ResultMasker,
  ) {
    this.maskedAtStart = masker.maskedCells;
  }

  get maskedCells(): number {
    return this.masker.maskedCells - this.maskedAtStart;
  }

  get durationMs(): number {
    return performance.now() - this.startedAt;
  }

  /** "select", "insert", "create table" …: the command words of the tags, when they agree. */
  get kind(): string | undefined {
    const tags = this.tags;
    // Nearly every statement has one tag.
    if (tags.length === 1) return commandWords(tags[0]!);
    const kinds = new Set(tags.map(commandWords));
    return kinds.size === 1 ? [...kinds][0] : undefined;
  }

  addTag(tag: string): void {
    this.tags.push(tag);
    // "INSERT 0 5", "SELECT 5", "COPY 5": the last number is the row count.
    const count = /(\d+)$/.exec(tag);
    if (count && /^(INSERT|UPDATE|DELETE|SELECT|MERGE|COPY|FETCH|MOVE)\b/.test(tag)) this.rows += Number(count[1]);
  }
}

/** "SELECT 5" → "select", "CREATE TABLE" → "create table". */
function commandWords(tag: string): string {
  return tag.replace(/[\d\s]+$/, '').toLowerCase();
}
