import type { SessionEventV1 } from '@portcullis/contract';
import type { AuditPrincipal } from './audit-principal.ts';
import type { SessionAuditInput } from './session-audit-event.ts';

/** A session event as a PEP posted it (the contract's SessionEventV1), before the PDP adds who sent it. */
export type PostedSessionEvent = (SessionAuditInput extends infer E ? (E extends unknown ? Omit<E, 'principal' | 'pep'> : never) : never) & {
  readonly subjectToken?: string;
};

/** The audit trail's view of an event the contract read: camelCase, its time a Date. */
export function postedSessionEvent(event: SessionEventV1): PostedSessionEvent {
  const base: { eventId?: string; time?: Date; subjectToken?: string; session: SessionEventV1['session']; protocol: SessionEventV1['protocol']; resource: SessionEventV1['resource'] } = {
    session: event.session,
    protocol: event.protocol,
    resource: event.resource,
  };
  if (event.event_id !== undefined) base.eventId = event.event_id;
  if (event.time !== undefined) base.time = new Date(event.time);
  if (event.subject_token !== undefined) base.subjectToken = event.subject_token;
  switch (event.event) {
    case 'session.start':
      return { ...base, event: 'session.start' };
    case 'session.statement': {
      // Field by field, not by spreads: a batch holds hundreds of these.
      const statement = base as Mutable<Extract<PostedSessionEvent, { event: 'session.statement' }>>;
      statement.event = 'session.statement';
      statement.statement = event.statement;
      statement.decisionId = event.decision_id;
      if (event.decision_reused !== undefined) statement.decisionReused = event.decision_reused;
      statement.status = event.status;
      if (event.error !== undefined) statement.error = event.error;
      statement.durationMs = event.duration_ms;
      if (event.rows !== undefined) statement.rows = event.rows;
      if (event.bytes !== undefined) statement.bytes = event.bytes;
      if (event.masked_cells !== undefined) statement.maskedCells = event.masked_cells;
      return statement;
    }
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

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Puts the verified (or refused) subject and the posting PEP on a posted event. */
export function withPrincipal(event: PostedSessionEvent, principal: AuditPrincipal, pepSub: string): SessionAuditInput {
  const { subjectToken: _token, ...rest } = event;
  return { ...rest, principal, pep: { sub: pepSub } } as SessionAuditInput;
}
