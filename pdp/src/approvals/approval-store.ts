import type { ApprovalState, ApprovalVerdictKind, PrincipalKindV1 } from '@portcullis/contract';
import type { ActionDisplay } from './action-display.ts';

/** Where an approval stands (the contract's ApprovalStateV1). `approved` waits to be consumed once; the rest are final. */
export type ApprovalStatus = ApprovalState;

export type ApprovalVerdict = ApprovalVerdictKind;

/** What kind of principal a token names (its kind claim); anything but `human` is an agent. */
export type PrincipalKind = PrincipalKindV1;

export interface ApprovalDecision {
  approver: string;
  /** The issuer of the approver's token. */
  iss?: string;
  /** The voter's kind, from their verified token (absent only in records from before it was kept). */
  kind?: PrincipalKind;
  verdict: ApprovalVerdict;
  reason: string;
  /** ISO time of the vote. */
  at: string;
}

/** One held command and the votes on it. Stored and sent as plain JSON. */
export interface ApprovalRecord {
  id: string;
  status: ApprovalStatus;
  requester: { sub: string; iss?: string; kind: PrincipalKind };
  resource: { type: string; name: string; environment?: string };
  /** The decision whose effect was approval_required. */
  decision_id: string;
  /** The action as the PEP sent it (SQL text, command, API call): what the approver judges. */
  action: Record<string, unknown>;
  /** What the approver reads first: one line naming the command. */
  action_summary: string;
  /** How the consoles show the action (lexer spans, hidden characters, why it is suspicious). */
  action_display?: ActionDisplay;
  session?: { id?: string; client_addr?: string };
  /** sha256 over principal (iss, sub) + resource + enriched action (see approvalBinding): the one command it approves. */
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
  /** The kinds of principal that may vote (policy; default only humans). Absent in older records: humans. */
  approver_kinds?: PrincipalKind[];
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
  | 'kind-not-allowed'
  | 'reason-required'
  | 'expired'
  | 'binding-mismatch'
  /** The audit trail cannot take records here: a vote it could not record is not cast. */
  | 'audit-unavailable';

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
  /** The approver's kind, from their verified token. */
  approverKind: PrincipalKind;
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

/** Bounds on what one requester may hold open at once. */
export interface OpenLimits {
  /** Pending records one requester (by subject) may hold; a further request is refused. */
  maxPendingPerRequester?: number;
}

/**
 * `created`: a new pending record. `joined`: a pending record for the same binding (the same
 * principal, resource and command) already existed and is the answer. `limit`: the requester
 * already holds `pending` pending records, the most allowed.
 */
export type OpenResult =
  | { outcome: 'created' | 'joined'; record: ApprovalRecord }
  | { outcome: 'limit'; pending: number; limit: number };

/** One page of the pending queue, soonest expiry first; `next` is the cursor of the page after. */
export interface PendingPage {
  records: ApprovalRecord[];
  next?: string;
}

/**
 * Approval state shared by every PDP replica. Methods reject (ApprovalStoreUnavailableError)
 * only when the store cannot answer; the caller then denies with `approvals-unavailable`.
 */
export interface ApprovalStore {
  /**
   * Atomic across replicas: while a pending record has this binding, its record is the answer
   * (one card however often the same command is asked again); else a new one, unless the
   * requester already holds `limits.maxPendingPerRequester` pending records.
   */
  open(input: ApprovalCreateInput, limits?: OpenLimits): Promise<OpenResult>;
  /** open() without a bound, answering with the record made or joined. */
  create(input: ApprovalCreateInput): Promise<ApprovalRecord>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Pending records, soonest expiry first. */
  listPending(): Promise<ApprovalRecord[]>;
  /** Pending records after `cursor` (a `next` of an earlier page), soonest expiry first, at most `limit`. */
  pendingPage(cursor: string | undefined, limit: number): Promise<PendingPage>;
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
  /**
   * The same principal sends the same command to the same resource again: consumes an approved,
   * still usable per-command record of this binding, as consume() would (once, atomically across
   * replicas). Undefined when there is none (never approved, denied, expired, used, or a window
   * approval, which is only ever presented by its id).
   */
  consumeGranted(binding: string): Promise<TransitionResult | undefined>;
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
