import { randomUUID } from 'node:crypto';
import type { ResourceV1 } from '@portcullis/contract';
import type { AuditPrincipal } from './audit-principal.ts';
import type { AuditEvent } from '../audit-event.ts';

export type ApprovalEventName = 'approval.requested' | 'approval.approved' | 'approval.denied' | 'approval.expired' | 'approval.executed';

/** One approver's vote so far. */
export interface ApprovalVote {
  readonly sub: string;
  readonly iss?: string;
  /** The voter's kind as their token named it. */
  readonly kind?: 'agent' | 'human';
  /** ISO time of the vote. */
  readonly time: string;
}

export interface ApprovalAuditInput {
  readonly event: ApprovalEventName;
  /** Defaults to a fresh UUID; becomes the record's `metadata.uid`. */
  readonly eventId?: string;
  readonly time?: Date;
  readonly approval: {
    readonly id: string;
    /** The decision whose effect was approval_required. */
    readonly decisionId: string;
    readonly quorum: number;
    /** Everyone who approved so far, in order (for `approved`, the quorum). */
    readonly approvers: readonly ApprovalVote[];
    /** The requester's justification (requested), or the approver's comment (approved, denied). */
    readonly reason?: string;
    readonly approverRoles?: readonly string[];
    readonly expiresAt?: string;
  };
  /**
   * Who caused this transition: the requester (requested, executed) or the approver who
   * decided (approved, denied). Absent for expired: nobody acted.
   */
  readonly actor?: AuditPrincipal;
  /** The principal whose action awaits approval. */
  readonly principal: AuditPrincipal;
  readonly resource: ResourceV1;
  /** The enriched action being approved, exactly as policy saw it. */
  readonly action: Record<string, unknown>;
  readonly session?: { readonly id?: string; readonly client_addr?: string };
  /** For executed: how running the approved action went. */
  readonly execution?: { readonly status: 'success' | 'failure'; readonly error?: string };
}

/**
 * The body of an approval event (stream `approvals`): `{ event, schema_version, event_id, time,
 * approval {id, decision_id, quorum, approvers[], reason?, approver_roles?, expires_at?}, actor?,
 * principal, resource, action, session?, execution? }`. Keyed by session id, else decision id,
 * so it travels in order with the decision it belongs to.
 */
export function buildApprovalAuditEvent(input: ApprovalAuditInput): AuditEvent {
  const { approval } = input;
  const body: Record<string, unknown> = {
    event: input.event,
    schema_version: 1,
    event_id: input.eventId ?? randomUUID(),
    time: (input.time ?? new Date()).toISOString(),
    approval: {
      id: approval.id,
      decision_id: approval.decisionId,
      quorum: approval.quorum,
      approvers: approval.approvers.map((vote) => ({ ...vote })),
      ...(approval.reason === undefined ? {} : { reason: approval.reason }),
      ...(approval.approverRoles === undefined ? {} : { approver_roles: [...approval.approverRoles] }),
      ...(approval.expiresAt === undefined ? {} : { expires_at: approval.expiresAt }),
    },
    ...(input.actor === undefined ? {} : { actor: input.actor }),
    principal: input.principal,
    resource: input.resource,
    action: input.action,
    ...(input.session === undefined ? {} : { session: { ...input.session } }),
    ...(input.execution === undefined ? {} : { execution: { ...input.execution } }),
  };
  return { stream: 'approvals', key: input.session?.id ?? approval.decisionId, body };
}
