import { buildApprovalAuditEvent, type ApprovalEventName } from '../audit/events/approval-audit-event.ts';
import type { AuditPrincipal } from '../audit/events/audit-principal.ts';
import type { AuditEvent } from '../audit/audit-event.ts';
import type { ApprovalDecision, ApprovalEvent, ApprovalRecord } from './approval-store.ts';

/**
 * The audit event for one store change, or none for a change that is no transition of its own
 * (a vote short of the quorum: it shows in the approvers of the event that resolves it).
 */
export function approvalAuditEventFor(event: ApprovalEvent): AuditEvent | undefined {
  const name = eventName(event);
  if (name === undefined) return undefined;
  const { record } = event;
  const approvals = record.decisions.filter((decision) => decision.verdict === 'approve');
  const deciding = record.decisions.at(-1);
  const requester = requesterPrincipal(record);
  const reason = reasonFor(name, deciding);
  const actor = actorFor(name, deciding, requester);
  // A resolution happened when the record says; a request or a use happens now.
  const resolves = name === 'approval.approved' || name === 'approval.denied' || name === 'approval.expired';
  return buildApprovalAuditEvent({
    event: name,
    // One id per transition: a re-delivered store event cannot become a second audit record.
    eventId: `${record.id}:${record.version}`,
    time: resolves && record.resolved_at !== undefined ? new Date(record.resolved_at) : new Date(),
    approval: {
      id: record.id,
      decisionId: record.decision_id,
      quorum: record.quorum,
      approvers: approvals.map((decision) => ({ sub: decision.approver, ...(decision.iss ? { iss: decision.iss } : {}), ...(decision.kind ? { kind: decision.kind } : {}), time: decision.at })),
      ...(reason === undefined ? {} : { reason }),
      approverRoles: record.approver_roles,
      expiresAt: record.expires_at,
    },
    ...(actor === undefined ? {} : { actor }),
    principal: requester,
    resource: record.resource,
    action: record.action,
    ...(record.session === undefined ? {} : { session: record.session }),
    ...(name === 'approval.executed' ? { execution: { status: 'success' as const } } : {}),
  });
}

function eventName(event: ApprovalEvent): ApprovalEventName | undefined {
  switch (event.record.status) {
    case 'pending':
      return event.type === 'requested' ? 'approval.requested' : undefined;
    case 'approved':
      // A window approval stays approved; each use of it is an execution.
      return event.type === 'updated' && (event.record.uses ?? 0) > 0 ? 'approval.executed' : 'approval.approved';
    case 'denied':
      return 'approval.denied';
    case 'expired':
      return 'approval.expired';
    case 'executed':
      return 'approval.executed';
  }
}

function requesterPrincipal(record: ApprovalRecord): AuditPrincipal {
  return { authenticated: true, sub: record.requester.sub, iss: record.requester.iss ?? '', kind: record.requester.kind, roles: [] };
}

function actorFor(name: ApprovalEventName, deciding: ApprovalDecision | undefined, requester: AuditPrincipal): AuditPrincipal | undefined {
  if (name === 'approval.requested' || name === 'approval.executed') return requester;
  if ((name === 'approval.approved' || name === 'approval.denied') && deciding !== undefined) {
    // The voter's real kind from their token; a record from before kinds were kept claims no human.
    return { authenticated: true, sub: deciding.approver, iss: deciding.iss ?? '', kind: deciding.kind ?? 'agent', roles: [] };
  }
  return undefined;
}

function reasonFor(name: ApprovalEventName, deciding: ApprovalDecision | undefined): string | undefined {
  if ((name === 'approval.approved' || name === 'approval.denied') && deciding !== undefined && deciding.reason !== '') return deciding.reason;
  return undefined;
}
