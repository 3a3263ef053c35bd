import type { SessionAuditInput, SessionProtocol } from '../audit/session-audit-event.ts';
import { fail, object, text } from './field-readers.ts';
import type { AuditPrincipal } from '../audit/audit-principal.ts';

/** A session event as a PEP posts it (docs/session-events.md), before the PDP adds who sent it. */
export type PostedSessionEvent = (SessionAuditInput extends infer E ? (E extends unknown ? Omit<E, 'principal' | 'pep'> : never) : never) & {
  readonly subjectToken?: string;
};

const MAX_EVENTS = 1000;
const MAX_TEXT = 1024 * 1024;
const PROTOCOLS: ReadonlySet<string> = new Set<SessionProtocol>(['sql', 'kubernetes', 'shell', 'http']);

/** `{events:[…]}` or one event; throws `invalid-request` naming the field. */
export function parseSessionEvents(body: unknown): PostedSessionEvent[] {
  const root = object(body, 'body');
  if (root.events === undefined) return [parseEvent(root, '')];
  if (!Array.isArray(root.events)) fail('events', 'must be an array');
  if (root.events.length === 0 || root.events.length > MAX_EVENTS) fail('events', `must hold 1 to ${MAX_EVENTS} events`);
  return root.events.map((event, index) => parseEvent(object(event, `events[${index}]`), `events[${index}].`));
}

/** Puts the verified (or refused) subject and the posting PEP on a parsed event. */
export function withPrincipal(event: PostedSessionEvent, principal: AuditPrincipal, pepSub: string): SessionAuditInput {
  const { subjectToken: _token, ...rest } = event;
  return { ...rest, principal, pep: { sub: pepSub } } as SessionAuditInput;
}

function parseEvent(raw: Record<string, unknown>, at: string): PostedSessionEvent {
  const session = object(raw.session, `${at}session`);
  const resource = object(raw.resource, `${at}resource`);
  const protocol = text(raw.protocol, `${at}protocol`, 32);
  if (!PROTOCOLS.has(protocol)) fail(`${at}protocol`, 'must be one of sql, kubernetes, shell, http');
  const base = {
    ...(raw.event_id === undefined ? {} : { eventId: text(raw.event_id, `${at}event_id`, 128) }),
    ...(raw.time === undefined ? {} : { time: time(raw.time, `${at}time`) }),
    ...(raw.subject_token === undefined ? {} : { subjectToken: text(raw.subject_token, `${at}subject_token`, 16 * 1024) }),
    session: {
      id: text(session.id, `${at}session.id`, 256),
      ...(session.client_addr === undefined ? {} : { client_addr: text(session.client_addr, `${at}session.client_addr`, 256) }),
    },
    protocol: protocol as SessionProtocol,
    resource: {
      type: text(resource.type, `${at}resource.type`, 256),
      name: text(resource.name, `${at}resource.name`, 256),
      ...(resource.environment === undefined ? {} : { environment: text(resource.environment, `${at}resource.environment`, 256) }),
    },
  };
  switch (raw.event) {
    case 'session.start':
      return { ...base, event: 'session.start' };
    case 'session.statement': {
      const statement = object(raw.statement, `${at}statement`);
      const status = text(raw.status, `${at}status`, 16);
      if (status !== 'success' && status !== 'failure') fail(`${at}status`, 'must be success or failure');
      return {
        ...base,
        event: 'session.statement',
        statement: {
          text: text(statement.text, `${at}statement.text`, MAX_TEXT, true),
          ...(statement.kind === undefined ? {} : { kind: text(statement.kind, `${at}statement.kind`, 64) }),
          ...(statement.method === undefined ? {} : { method: text(statement.method, `${at}statement.method`, 16) }),
          ...(statement.path === undefined ? {} : { path: text(statement.path, `${at}statement.path`, 8192) }),
        },
        decisionId: text(raw.decision_id, `${at}decision_id`, 128),
        ...(raw.decision_reused === undefined ? {} : { decisionReused: flag(raw.decision_reused, `${at}decision_reused`) }),
        status,
        ...(raw.error === undefined ? {} : { error: text(raw.error, `${at}error`, 8192, true) }),
        durationMs: count(raw.duration_ms, `${at}duration_ms`, true),
        ...(raw.rows === undefined ? {} : { rows: count(raw.rows, `${at}rows`) }),
        ...(raw.bytes === undefined ? {} : { bytes: count(raw.bytes, `${at}bytes`) }),
        ...(raw.masked_cells === undefined ? {} : { maskedCells: count(raw.masked_cells, `${at}masked_cells`) }),
      };
    }
    case 'session.end':
      return {
        ...base,
        event: 'session.end',
        durationMs: count(raw.duration_ms, `${at}duration_ms`, true),
        statements: count(raw.statements, `${at}statements`),
        rows: count(raw.rows, `${at}rows`),
        bytes: count(raw.bytes, `${at}bytes`),
        maskedCells: count(raw.masked_cells, `${at}masked_cells`),
        ...(raw.reason === undefined ? {} : { reason: text(raw.reason, `${at}reason`, 128) }),
      };
    default:
      return fail(`${at}event`, 'must be session.start, session.statement or session.end');
  }
}



function flag(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') fail(field, 'must be true or false');
  return value;
}

function count(value: unknown, field: string, fractional = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!fractional && !Number.isInteger(value))) {
    return fail(field, fractional ? 'must be a non-negative number' : 'must be a non-negative integer');
  }
  return value;
}

function time(value: unknown, field: string): Date {
  const parsed = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(parsed.getTime())) return fail(field, 'must be an ISO 8601 time');
  return parsed;
}
