import { auditBodyOf } from '@portcullis/pdp';

/**
 * The sessions stream read back one posted event at a time. The PDP writes a run of one
 * session's statements posted together as one `session.statements` record; here each of its
 * entries comes out as the `session.statement` body it would have been alone (the run's shared
 * fields plus the entry's own), so tests see what the PEP posted, whatever the grouping.
 */

/** A session record's body (whole, from `auditBodyOf`), or one statement of a run in that shape. */
export type SessionEventBody = Record<string, unknown> & {
  readonly event: string;
  readonly session: { readonly id: string; readonly client_addr?: string };
};

/** Statement bodies also have the statement as run. */
export type SessionStatementBody = SessionEventBody & { readonly statement: { readonly text: string; readonly kind?: string } };

/** Every session event of the records, in order; a run's statements one by one. */
export function sessionEventBodies(records: readonly Record<string, unknown>[]): SessionEventBody[] {
  return records.flatMap((record) => {
    const body = auditBodyOf(record) as SessionEventBody;
    if (body.event !== 'session.statements') return [body];
    // event_id and time are the record's own; each entry has its own.
    const { statements, totals: _totals, event_id: _eventId, time: _time, ...shared } = body;
    return (statements as Record<string, unknown>[]).map((entry) => ({ ...shared, event: 'session.statement', ...entry }));
  });
}

/** Only the statements, alone or from runs, in order. */
export function sessionStatementBodies(records: readonly Record<string, unknown>[]): SessionStatementBody[] {
  return sessionEventBodies(records).filter((body): body is SessionStatementBody => body.event === 'session.statement');
}
