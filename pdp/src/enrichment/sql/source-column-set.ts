/**
 * Sets of source columns ({table, column}) as output provenance builds them, with a shared work
 * budget: a 256 KiB text can name thousands of columns through thousands of references, and
 * the set unions that follow must not become the PDP's bottleneck. Past the budget the analysis
 * throws, and the analyzer reports the statement as unparseable (which policy denies).
 */
import type { SqlSourceColumn } from "./sql-facts.ts";

/** Column insertions one statement's provenance may perform; a normal statement needs hundreds. */
export const PROVENANCE_WORK_BUDGET = 250_000;

export class ProvenanceBudget {
  private spent = 0;

  constructor(private readonly limit = PROVENANCE_WORK_BUDGET) {}

  spend(units: number): void {
    this.spent += units;
    if (this.spent > this.limit) throw new Error("statement too complex to trace its output columns");
  }
}

export class SourceColumnSet {
  private readonly byKey = new Map<string, SqlSourceColumn>();

  constructor(private readonly budget: ProvenanceBudget) {}

  get size(): number {
    return this.byKey.size;
  }

  add(table: string, column: string): this {
    this.budget.spend(1);
    const key = `${table}\u0000${column}`;
    if (!this.byKey.has(key)) this.byKey.set(key, { table, column });
    return this;
  }

  addAll(other: SourceColumnSet): this {
    this.budget.spend(other.byKey.size);
    for (const [key, value] of other.byKey) if (!this.byKey.has(key)) this.byKey.set(key, value);
    return this;
  }

  /**
   * Byte-order sort by table, then column: the same text always gives the same list. Past
   * `limit` columns each table is listed once as its whole row ("*"): coarser, never narrower,
   * and the policy input stays small however a statement is built.
   */
  toSortedArray(limit = Number.POSITIVE_INFINITY): SqlSourceColumn[] {
    if (this.byKey.size > limit) {
      const tables = new Set([...this.byKey.values()].map((value) => value.table));
      return [...tables].sort().map((table) => ({ table, column: "*" }));
    }
    return [...this.byKey.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, value]) => ({ table: value.table, column: value.column }));
  }
}
