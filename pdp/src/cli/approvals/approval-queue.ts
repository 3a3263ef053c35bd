import type { ApprovalRecordView } from '../../approvals/approval-view.ts';

/**
 * The pending queue as a client holds it: a snapshot, then events applied by id, keeping the
 * highest version of each record (events may repeat what a snapshot already showed).
 */
export class ApprovalQueue {
  readonly #records = new Map<string, ApprovalRecordView>();
  /** Versions of records that left pending, so a late repeat cannot bring one back. */
  readonly #resolved = new Map<string, number>();

  /** Replaces the queue with a snapshot's pending records. */
  reset(pending: readonly ApprovalRecordView[]): void {
    this.#records.clear();
    this.#resolved.clear();
    for (const record of pending) this.apply(record);
  }

  /** Applies one changed record; a record that left pending leaves the queue. */
  apply(record: ApprovalRecordView): void {
    const known = this.#records.get(record.id)?.version ?? this.#resolved.get(record.id);
    if (known !== undefined && known >= record.version) return;
    if (record.status === 'pending') {
      this.#records.set(record.id, record);
    } else {
      this.#records.delete(record.id);
      this.#resolved.set(record.id, record.version);
    }
  }

  get(id: string): ApprovalRecordView | undefined {
    return this.#records.get(id);
  }

  /** Pending records, soonest expiry first (as the PDP lists them). */
  pending(): ApprovalRecordView[] {
    return [...this.#records.values()].sort((a, b) => Date.parse(a.expires_at) - Date.parse(b.expires_at) || a.id.localeCompare(b.id));
  }

  get size(): number {
    return this.#records.size;
  }
}
