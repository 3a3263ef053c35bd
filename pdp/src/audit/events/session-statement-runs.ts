import { withPrincipal, type PostedSessionEvent } from './posted-session-event.ts';
import type { AuditPrincipal } from './audit-principal.ts';
import type { AuditEvent } from '../audit-event.ts';
import { buildSessionAuditEvent, buildSessionStatementsAuditEvent, type SessionStatementFields } from './session-audit-event.ts';

/** Statements one `session.statements` record holds at most; a longer run continues in the next. */
export const MAX_STATEMENTS_PER_RECORD = 200;

/**
 * Characters of statement text (and error, method, path) one run holds at most. The record
 * carries the texts twice (entries and the OCSF command), so this keeps it well under Kafka's
 * default 1 MB message limit, which a record alone cannot be split to fit. A statement longer
 * than this is a record of its own, as before.
 */
export const MAX_RUN_TEXT_CHARS = 96 * 1024;

type PostedStatement = Extract<PostedSessionEvent, { event: 'session.statement' }>;

/** When a run is full: statements, and characters of text, it may hold. */
export interface RunLimits {
  readonly statements: number;
  readonly textChars: number;
}

const LIMITS: RunLimits = { statements: MAX_STATEMENTS_PER_RECORD, textChars: MAX_RUN_TEXT_CHARS };

/** One audit record of a posted batch, and where in the batch the first event it holds was. */
export interface SessionRecordOfBatch {
  readonly event: AuditEvent;
  /** Every event before this index is held by this record or an earlier one. */
  readonly firstIndex: number;
}

/**
 * Turns a posted batch of session events into audit events, one per record: a run of
 * statements of one session becomes one `session.statements` record, every other event (and a
 * statement alone in its run) its own record, as before.
 *
 * A run is consecutive in its session's own events, not in the batch: a PEP ships the events of
 * all its sessions through one queue, so statements of concurrent sessions interleave and runs
 * adjacent in the batch would rarely hold more than one. A run ends at that session's start or
 * end, at a statement with another subject token, protocol, client address or resource (the
 * record states them once), and at the limits (200 statements, 96 Ki characters of text). Each
 * record takes the place of its first event, so a session's records keep its order and the
 * records of a batch are in the order of their first events.
 *
 * `principalOf` answers for a subject token (undefined when none was posted).
 */
export function sessionRecordsOfBatch(
  events: readonly PostedSessionEvent[],
  principalOf: (subjectToken: string | undefined) => AuditPrincipal,
  pepSub: string,
  limits: RunLimits = LIMITS,
): SessionRecordOfBatch[] {
  const records: Array<{ firstIndex: number; events: PostedSessionEvent[] }> = [];
  // Per session id, the run later statements of that session may still join.
  const openRuns = new Map<string, { firstIndex: number; events: PostedStatement[]; textChars: number }>();
  events.forEach((event, index) => {
    if (event.event !== 'session.statement') {
      openRuns.delete(event.session.id);
      records.push({ firstIndex: index, events: [event] });
      return;
    }
    const open = openRuns.get(event.session.id);
    const chars = textChars(event);
    if (open && open.events.length < limits.statements && open.textChars + chars <= limits.textChars && sameRun(open.events[0]!, event)) {
      open.events.push(event);
      open.textChars += chars;
      return;
    }
    const run = { firstIndex: index, events: [event], textChars: chars };
    records.push(run);
    openRuns.set(event.session.id, run);
  });
  return records.map(({ firstIndex, events: held }) => ({ firstIndex, event: auditEventOf(held, principalOf, pepSub) }));
}

function auditEventOf(events: readonly PostedSessionEvent[], principalOf: (subjectToken: string | undefined) => AuditPrincipal, pepSub: string): AuditEvent {
  const first = events[0]!;
  const principal = principalOf(first.subjectToken);
  if (events.length === 1) return buildSessionAuditEvent(withPrincipal(first, principal, pepSub));
  return buildSessionStatementsAuditEvent({
    event: 'session.statements',
    ...(first.receivedAt === undefined ? {} : { receivedAt: first.receivedAt }),
    session: first.session,
    protocol: first.protocol,
    resource: first.resource,
    principal,
    pep: { sub: pepSub },
    statements: (events as readonly PostedStatement[]).map(statementFields),
  });
}

function textChars(event: PostedStatement): number {
  const { statement } = event;
  return statement.text.length + (statement.method?.length ?? 0) + (statement.path?.length ?? 0) + (event.error?.length ?? 0);
}

function statementFields(event: PostedStatement): SessionStatementFields {
  const { event: _name, subjectToken: _token, session: _session, protocol: _protocol, resource: _resource, receivedAt: _received, ...fields } = event;
  return fields;
}

/** What the record states once for the whole run (the session id is the same by construction). */
function sameRun(a: PostedStatement, b: PostedStatement): boolean {
  return a.subjectToken === b.subjectToken
    && a.protocol === b.protocol
    && a.session.client_addr === b.session.client_addr
    && a.resource.type === b.resource.type
    && a.resource.name === b.resource.name
    && a.resource.environment === b.resource.environment
    && sameLabels(a.resource.labels, b.resource.labels);
}

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((name) => a[name] === b[name]);
}
