import { asArray, asNonNegative, asObject, asString, fieldAt, type JsonObject } from '../json-fields.ts';

/**
 * The facts behind the report's charts, gathered while the report reads the records once:
 * decisions over time by effect, approval latency, top denied reasons, masked cells by column.
 * Memory grows with minutes of activity, approvals and masked decisions, not with records.
 */
export interface EvidenceCharts {
  readonly decisions_over_time: { readonly bucket_ms: number; readonly buckets: readonly { readonly start: string; readonly counts: Readonly<Record<string, number>> }[] };
  /** Requested → approved or denied. */
  readonly approval_latency: { readonly settled: number; readonly median_ms: number | null; readonly p95_ms: number | null; readonly max_ms: number | null; readonly buckets: readonly { readonly label: string; readonly count: number }[] };
  readonly top_denied_reasons: readonly { readonly reason: string; readonly count: number }[];
  /** Cells masked in statements' results, by the column(s) their decision's mask rules name; columns masked together share a row. */
  readonly masked_cells_by_column: readonly { readonly column: string; readonly cells: number }[];
}

const MINUTE = 60_000;
const MAX_BARS = 48;
const TOP = 10;
const NICE_BUCKETS_MS = [MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, 60 * MINUTE, 3 * 60 * MINUTE, 6 * 60 * MINUTE, 12 * 60 * MINUTE, 24 * 60 * MINUTE, 7 * 24 * 60 * MINUTE];
const LATENCY_BUCKETS: ReadonlyArray<[string, number]> = [['< 1 min', MINUTE], ['1–5 min', 5 * MINUTE], ['5–15 min', 15 * MINUTE], ['15–60 min', 60 * MINUTE], ['1–4 h', 240 * MINUTE], ['4–24 h', 1440 * MINUTE], ['> 24 h', Infinity]];

export class ChartFacts {
  private readonly perMinute = new Map<number, Map<string, number>>();
  private readonly requestedAt = new Map<string, number>();
  private readonly latencies: number[] = [];
  private readonly denied = new Map<string, number>();
  private readonly maskColumnsOf = new Map<string, string>();
  /** Statements' masked cells whose decision was not read yet: attributed at the end. */
  private readonly pendingCells: Array<[decisionId: string, cells: number]> = [];

  addDecision(time: number, body: JsonObject, effect: string, denialCodes: readonly string[]): void {
    const minute = Math.floor(time / MINUTE) * MINUTE;
    const counts = this.perMinute.get(minute) ?? new Map<string, number>();
    counts.set(effect, (counts.get(effect) ?? 0) + 1);
    this.perMinute.set(minute, counts);
    for (const code of denialCodes) this.denied.set(code, (this.denied.get(code) ?? 0) + 1);
    const columns = asArray(fieldAt(body, 'obligations', 'mask'))
      .map((rule) => asObject(rule))
      .map((rule) => (rule ? [asString(rule.table), asString(rule.column)].filter(Boolean).join('.') : ''))
      .filter((name) => name !== '');
    const id = asString(body.decision_id);
    if (id && columns.length > 0) this.maskColumnsOf.set(id, [...new Set(columns)].sort().join(', '));
  }

  addApproval(time: number, event: string, body: JsonObject): void {
    const id = asString(fieldAt(body, 'approval', 'id'));
    if (!id) return;
    if (event === 'approval.requested') {
      if (!this.requestedAt.has(id)) this.requestedAt.set(id, time);
      return;
    }
    if (event !== 'approval.approved' && event !== 'approval.denied') return;
    const requested = this.requestedAt.get(id);
    if (requested === undefined) return;
    this.requestedAt.delete(id);
    this.latencies.push(Math.max(0, time - requested));
  }

  /** One statement's body (alone, or an entry of a run). */
  addStatement(statement: JsonObject): void {
    const cells = asNonNegative(statement.masked_cells) ?? 0;
    const id = asString(statement.decision_id);
    if (cells > 0) this.pendingCells.push([id ?? '', cells]);
  }

  build(): EvidenceCharts {
    return { decisions_over_time: this.overTime(), approval_latency: this.latency(), top_denied_reasons: this.topDenied(), masked_cells_by_column: this.maskedCells() };
  }

  private overTime(): EvidenceCharts['decisions_over_time'] {
    const minutes = [...this.perMinute.keys()].sort((a, b) => a - b);
    if (minutes.length === 0) return { bucket_ms: MINUTE, buckets: [] };
    const span = minutes.at(-1)! - minutes[0]! + MINUTE;
    const bucketMs = NICE_BUCKETS_MS.find((size) => span / size <= MAX_BARS) ?? Math.ceil(span / MAX_BARS / MINUTE) * MINUTE;
    const first = Math.floor(minutes[0]! / bucketMs) * bucketMs;
    const buckets = new Map<number, Map<string, number>>();
    for (let start = first; start <= minutes.at(-1)!; start += bucketMs) buckets.set(start, new Map());
    for (const [minute, counts] of this.perMinute) {
      const bucket = buckets.get(Math.floor(minute / bucketMs) * bucketMs)!;
      for (const [effect, count] of counts) bucket.set(effect, (bucket.get(effect) ?? 0) + count);
    }
    return {
      bucket_ms: bucketMs,
      buckets: [...buckets].map(([start, counts]) => ({ start: new Date(start).toISOString(), counts: Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b))) })),
    };
  }

  private latency(): EvidenceCharts['approval_latency'] {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const rank = (q: number): number | null => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    let lower = 0;
    const buckets = LATENCY_BUCKETS.map(([label, upper]) => {
      const count = sorted.filter((ms) => ms >= lower && ms < upper).length;
      lower = upper;
      return { label, count };
    });
    return { settled: sorted.length, median_ms: rank(0.5), p95_ms: rank(0.95), max_ms: sorted.at(-1) ?? null, buckets };
  }

  private topDenied(): EvidenceCharts['top_denied_reasons'] {
    return [...this.denied].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).slice(0, TOP).map(([reason, count]) => ({ reason, count }));
  }

  private maskedCells(): EvidenceCharts['masked_cells_by_column'] {
    const byColumn = new Map<string, number>();
    for (const [id, cells] of this.pendingCells) {
      const column = this.maskColumnsOf.get(id) ?? 'column not recorded';
      byColumn.set(column, (byColumn.get(column) ?? 0) + cells);
    }
    return [...byColumn].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).slice(0, TOP).map(([column, cells]) => ({ column, cells }));
  }
}
