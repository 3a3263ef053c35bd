/** Where an approval stands. `approved` waits to be consumed once; the rest are final. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'executed';

export type ApprovalVerdict = 'approve' | 'deny';

export interface ApprovalDecision {
  approver: string;
  verdict: ApprovalVerdict;
  reason: string;
  /** ISO time of the vote. */
  at: string;
}

/** One held command and the votes on it. Stored and sent as plain JSON. */
export interface ApprovalRecord {
  id: string;
  status: ApprovalStatus;
  requester: { sub: string; kind: 'agent' | 'human' };
  resource: { type: string; name: string; environment?: string };
  /** What the approver reads: the SQL or command, pretty-printed by the caller. */
  action_summary: string;
  /** sha256 over principal sub + resource + enriched action (see approvalBinding): the one command it approves. */
  binding: string;
  /** The policy's reasons for asking. */
  reasons: { code: string; message: string }[];
  /** Distinct approvers needed; policy decides. */
  quorum: number;
  /** An approver needs one of these roles; an empty list means nobody may approve. */
  approver_roles: string[];
  decisions: ApprovalDecision[];
  created_at: string;
  expires_at: string;
  /** When it left `pending` (approved, denied or expired). */
  resolved_at?: string;
  /** Increases by one with every change; the Redis store compares it to write atomically. */
  version: number;
}

export type TransitionFailureCode =
  | 'not-found'
  | 'not-pending'
  | 'self-approval'
  | 'already-voted'
  | 'role-not-allowed'
  | 'reason-required'
  | 'expired'
  | 'binding-mismatch';

/** A refused transition is an answer, not an error; errors mean the store could not answer. */
export type TransitionResult =
  | { ok: true; record: ApprovalRecord }
  | { ok: false; code: TransitionFailureCode; message: string };

export type ApprovalCreateInput = Omit<ApprovalRecord, 'id' | 'status' | 'decisions' | 'created_at' | 'expires_at' | 'version' | 'resolved_at'> & {
  ttlSeconds: number;
};

export interface ApprovalVote {
  approver: string;
  /** The approver's roles, from their verified token. */
  approverRoles: string[];
  verdict: ApprovalVerdict;
  reason: string;
}

/**
 * `requested` for a new record, `resolved` when it leaves pending (approved, denied, expired),
 * `updated` for any other change (a vote short of the quorum, executed).
 */
export type ApprovalEventType = 'requested' | 'updated' | 'resolved';

export interface ApprovalEvent {
  type: ApprovalEventType;
  record: ApprovalRecord;
}

export type ApprovalListener = (event: ApprovalEvent) => void;

/**
 * Approval state shared by every PDP replica. Methods reject (ApprovalStoreUnavailableError)
 * only when the store cannot answer; the caller then denies with `approvals-unavailable`.
 */
export interface ApprovalStore {
  create(input: ApprovalCreateInput): Promise<ApprovalRecord>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Pending records, soonest expiry first. */
  listPending(): Promise<ApprovalRecord[]>;
  /**
   * Atomic: the requester may not vote (by subject); the role must be allowed; one vote per
   * approver; a deny needs a reason and rejects; `quorum` distinct approvals approve. A vote on
   * a pending record past its expiry marks it expired and is refused.
   */
  vote(id: string, vote: ApprovalVote): Promise<TransitionResult>;
  /** approved → executed, once, only for the command whose binding matches. */
  consume(id: string, binding: string): Promise<TransitionResult>;
  /** Marks pending records past expires_at expired; returns those this call expired. */
  expireDue(now?: Date): Promise<ApprovalRecord[]>;
  /** Every change, from this store and (Redis) every other replica. Returns the unsubscribe. */
  subscribe(listener: ApprovalListener): () => void;
  health(): Promise<{ ok: boolean; detail: string }>;
  close(): Promise<void>;
}
