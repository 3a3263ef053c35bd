/** Where an approval stands. `approved` waits to be consumed once; the rest are final. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'executed';

export type ApprovalVerdict = 'approve' | 'deny';

export interface ApprovalDecision {
  approver: string;
  /** The issuer of the approver's token. */
  iss?: string;
  verdict: ApprovalVerdict;
  reason: string;
  /** ISO time of the vote. */
  at: string;
}

/** One held command and the votes on it. Stored and sent as plain JSON. */
export interface ApprovalRecord {
  id: string;
  status: ApprovalStatus;
  requester: { sub: string; iss?: string; kind: 'agent' | 'human' };
  resource: { type: string; name: string; environment?: string };
  /** The decision whose effect was approval_required. */
  decision_id: string;
  /** The action as the PEP sent it (SQL text, command, API call): what the approver judges. */
  action: Record<string, unknown>;
  /** What the approver reads first: one line naming the command. */
  action_summary: string;
  session?: { id?: string; client_addr?: string };
  /** sha256 over principal sub + resource + enriched action (see approvalBinding): the one command it approves. */
  binding: string;
  /** The policy's reasons for asking. */
  reasons: { code: string; message: string }[];
  /**
   * Opt-in (policy): once approved, the approval covers the requester's held commands on this
   * resource until `window_ends_at`, each use audited, instead of one command.
   */
  window_seconds?: number;
  window_ends_at?: string;
  /** Commands run under this approval (a window's count; 1 once a per-command approval ran). */
  uses?: number;
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
  approverIss?: string;
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
  /**
   * The event's place in the store's one ordered log (`<ms>-<seq>`, compare with
   * compareEventIds): a reconnecting reader resumes after the last id it saw.
   */
  id: string;
  type: ApprovalEventType;
  record: ApprovalRecord;
}

/** Events after a cursor; `complete` is false when the log no longer reaches back that far. */
export interface EventsSince {
  events: ApprovalEvent[];
  complete: boolean;
}

export type ApprovalListener = (event: ApprovalEvent) => void;

/**
 * Told of every write this store instance made itself (not another replica's): whoever
 * changed a record audits that change, so each transition is audited exactly once.
 */
export type LocalWriteListener = (event: ApprovalEvent) => void;

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
  /**
   * approved → executed, once, only for the command whose binding matches; a window approval
   * stays approved and counts the use until its window ends.
   */
  consume(id: string, binding: string): Promise<TransitionResult>;
  /** Marks pending records past expires_at expired; returns those this call expired. */
  expireDue(now?: Date): Promise<ApprovalRecord[]>;
  /**
   * Every change, from this store and (Redis) every other replica, once each and in log order,
   * including those made while this replica's event connection was down. Returns the unsubscribe.
   */
  subscribe(listener: ApprovalListener): () => void;
  /** The id of the newest event in the log ('0-0' when empty): a cursor for a snapshot. */
  latestEventId(): Promise<string>;
  /** Events after `cursor`, oldest first, at most `limit`. */
  eventsSince(cursor: string, limit: number): Promise<EventsSince>;
  /** Records that left pending, newest change first, from the recent event log. */
  recentResolved(limit: number): Promise<ApprovalRecord[]>;
  health(): Promise<{ ok: boolean; detail: string }>;
  close(): Promise<void>;
}
