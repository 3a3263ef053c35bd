import type { SessionEventV1 } from '@portcullis/contract';
import type { AuditPrincipal } from './audit-principal.ts';
import type { SessionAuditInput } from './session-audit-event.ts';

/** A session event as a PEP posted it (the contract's SessionEventV1), before the PDP adds who sent it. */
export type PostedSessionEvent = (SessionAuditInput extends infer E ? (E extends unknown ? Omit<E, 'principal' | 'pep'> : never) : never) & {
  readonly subjectToken?: string;
};

/** The audit trail's view of an event the contract read: camelCase, its time a Date. */
export function postedSessionEvent(event: SessionEventV1): PostedSessionEvent {
  const base = {
    ...(event.event_id === undefined ? {} : { eventId: event.event_id }),
    ...(event.time === undefined ? {} : { time: new Date(event.time) }),
    ...(event.subject_token === undefined ? {} : { subjectToken: event.subject_token }),
    session: event.session,
    protocol: event.protocol,
    resource: event.resource,
  };
  switch (event.event) {
    case 'session.start':
      return { ...base, event: 'session.start' };
    case 'session.statement':
      return {
        ...base,
        event: 'session.statement',
        statement: event.statement,
        decisionId: event.decision_id,
        ...(event.decision_reused === undefined ? {} : { decisionReused: event.decision_reused }),
        status: event.status,
        ...(event.error === undefined ? {} : { error: event.error }),
        durationMs: event.duration_ms,
        ...(event.rows === undefined ? {} : { rows: event.rows }),
        ...(event.bytes === undefined ? {} : { bytes: event.bytes }),
        ...(event.masked_cells === undefined ? {} : { maskedCells: event.masked_cells }),
      };
    case 'session.recording':
      return { ...base, event: 'session.recording', decisionId: event.decision_id, recording: event.recording };
    case 'session.end':
      return {
        ...base,
        event: 'session.end',
        durationMs: event.duration_ms,
        statements: event.statements,
        rows: event.rows,
        bytes: event.bytes,
        maskedCells: event.masked_cells,
        ...(event.reason === undefined ? {} : { reason: event.reason }),
      };
  }
}

/** Puts the verified (or refused) subject and the posting PEP on a posted event. */
export function withPrincipal(event: PostedSessionEvent, principal: AuditPrincipal, pepSub: string): SessionAuditInput {
  const { subjectToken: _token, ...rest } = event;
  return { ...rest, principal, pep: { sub: pepSub } } as SessionAuditInput;
}
