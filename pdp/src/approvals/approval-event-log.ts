import type { ApprovalEvent, ApprovalRecord } from './approval-store.ts';

const EVENT_ID = /^(\d+)-(\d+)$/;

/** Orders two log ids (`<ms>-<seq>`, as Redis streams number entries); malformed ids sort first. */
export function compareEventIds(a: string, b: string): number {
  const left = EVENT_ID.exec(a);
  const right = EVENT_ID.exec(b);
  if (left === null || right === null) return left === null ? (right === null ? 0 : -1) : 1;
  const byTime = BigInt(left[1]!) - BigInt(right[1]!);
  if (byTime !== 0n) return byTime < 0n ? -1 : 1;
  const bySeq = BigInt(left[2]!) - BigInt(right[2]!);
  return bySeq === 0n ? 0 : bySeq < 0n ? -1 : 1;
}

export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 48 && EVENT_ID.test(value);
}

/** The latest state of every record that left pending, newest change first. */
export function resolvedFromEvents(newestFirst: readonly ApprovalEvent[], limit: number): ApprovalRecord[] {
  const seen = new Set<string>();
  const records: ApprovalRecord[] = [];
  for (const event of newestFirst) {
    if (seen.has(event.record.id)) continue;
    seen.add(event.record.id);
    if (event.record.status !== 'pending') records.push(event.record);
    if (records.length >= limit) break;
  }
  return records;
}
