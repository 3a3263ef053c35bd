import type { ShadowChange } from '../audit/events/shadow-audit-event.ts';

/** One difference as the console shows it (GET /v1/policy): the record's facts, the reasons by code. */
export interface RecentDifference {
  readonly time: string;
  readonly decision_id: string;
  readonly changes: readonly ShadowChange[];
  readonly principal: string | null;
  readonly resource: { readonly type: string; readonly name: string };
  readonly action_type: string;
  readonly live: { readonly revision: string; readonly effect: string; readonly reasons: readonly string[] };
  readonly shadow: { readonly revision: string; readonly effect: string; readonly reasons: readonly string[] };
}

/** The last differences, newest first, in a bounded ring: memory stays flat whatever the rate. */
export class RecentDifferences {
  private readonly ring: RecentDifference[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  add(difference: RecentDifference): void {
    if (this.ring.length < this.capacity) this.ring.push(difference);
    else this.ring[this.next] = difference;
    this.next = (this.next + 1) % this.capacity;
  }

  list(): RecentDifference[] {
    const oldestFirst = this.ring.length < this.capacity ? this.ring : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return [...oldestFirst].reverse();
  }
}
