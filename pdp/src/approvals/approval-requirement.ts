/** What policy asks of an approval (quorum, who, how long): the broker opens approvals by it. */
export interface ApprovalRequirement {
  quorum: number;
  approver_roles: string[];
  ttl_seconds: number;
  /** Opt-in: one approval covers the principal's held commands on the resource this long. */
  window_seconds?: number;
  /** The kinds of principal that may vote (absent: the broker's default, humans only). */
  approver_kinds?: ('agent' | 'human')[];
}
