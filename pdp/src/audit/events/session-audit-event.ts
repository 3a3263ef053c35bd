import { randomUUID } from 'node:crypto';
import type { RecordingChunkV1, ResourceV1 } from '@portcullis/contract';
import type { AuditPrincipal } from './audit-principal.ts';
import type { AuditEvent } from '../audit-event.ts';
import type { SessionProtocol } from '@portcullis/contract';

// What a session carries, in the vocabulary of action types; it picks the OCSF class.
export type { SessionProtocol };

interface SessionEventBase {
  /** Defaults to a fresh UUID; becomes the record's `metadata.uid`. */
  readonly eventId?: string;
  /** When it happened, as the PEP states it (a claim: the PDP cannot check it). */
  readonly time?: Date;
  /** When the PDP received it: its own clock, whatever the PEP says. */
  readonly receivedAt?: Date;
  readonly session: { readonly id: string; readonly client_addr?: string };
  readonly protocol: SessionProtocol;
  readonly principal: AuditPrincipal;
  readonly pep: { readonly sub: string };
  readonly resource: ResourceV1;
}

export interface SessionStartInput extends SessionEventBase {
  readonly event: 'session.start';
}

/** One statement (SQL text, shell command line, API call) the session ran after a decision allowed it. */
export interface SessionStatementInput extends SessionEventBase {
  readonly event: 'session.statement';
  /** `text` as run; `kind` the statement kind when known (SQL: select, delete …); `method`/`path` for API calls. */
  readonly statement: { readonly text: string; readonly kind?: string; readonly method?: string; readonly path?: string };
  /** The decision that allowed it. */
  readonly decisionId: string;
  /** It ran under an earlier decision of the same shape rather than one of its own. */
  readonly decisionReused?: boolean;
  /**
   * Whether the PDP checked that it issued `decisionId` to this PEP for this resource and
   * principal (false: the principal's token did not verify, so it could not be checked).
   */
  readonly decisionVerified?: boolean;
  readonly status: 'success' | 'failure';
  /** The upstream error when status is failure (its text, never result values). */
  readonly error?: string;
  readonly durationMs: number;
  readonly rows?: number;
  readonly bytes?: number;
  /** Result cells the PEP replaced under a mask obligation. */
  readonly maskedCells?: number;
}

export interface SessionEndInput extends SessionEventBase {
  readonly event: 'session.end';
  readonly durationMs: number;
  readonly statements: number;
  readonly rows: number;
  readonly bytes: number;
  readonly maskedCells: number;
  /** Why it ended, kebab-case: client-closed, upstream-closed, idle-timeout, error … */
  readonly reason?: string;
}

/** One chunk of an interactive session's asciicast v2 recording (the contract's RecordingChunkV1). */
export interface SessionRecordingInput extends SessionEventBase {
  readonly event: 'session.recording';
  /** The decision that allowed the interactive session. */
  readonly decisionId: string;
  /** As for a statement: whether the PDP checked it issued that decision to this PEP. */
  readonly decisionVerified?: boolean;
  readonly recording: RecordingChunkV1;
}

export type SessionAuditInput = SessionStartInput | SessionStatementInput | SessionRecordingInput | SessionEndInput;

/** What one statement contributes to a record: the statement fields, its own id and time. */
export type SessionStatementFields = Omit<SessionStatementInput, 'event' | 'session' | 'protocol' | 'principal' | 'pep' | 'resource'>;

/**
 * Consecutive statements of one session posted together, with one principal, protocol and
 * resource (session-statement-runs.ts): one record holds them all, so the per-record cost of
 * the audit trail (mapping, canonical JSON, hash, write) is paid once for the run.
 */
export interface SessionStatementsInput extends SessionEventBase {
  readonly event: 'session.statements';
  /** In the order they ran; at least one. */
  readonly statements: readonly SessionStatementFields[];
}

/**
 * The body of a session event (stream `sessions`), flat like the decision body:
 * `{ event, schema_version, event_id, time, protocol, session, principal, pep, resource }` plus
 * for `session.statement`: `statement {text, kind?, method?, path?}, decision_id, decision_reused?, status, error?,
 * duration_ms, rows?, bytes?, masked_cells?`; for `session.end`: `duration_ms, statements, rows,
 * bytes, masked_cells, reason?`; for `session.recording`: `decision_id, decision_verified?, recording
 * {format, seq, header?, events, final?}` (what the client's terminal was sent, after masking).
 * Result values never appear otherwise: only the command and counts.
 */
export function buildSessionAuditEvent(input: SessionAuditInput): AuditEvent {
  const body = commonFields(input, (input.time ?? new Date()).toISOString());
  if (input.event === 'session.statement') {
    Object.assign(body, statementFields(input));
  } else if (input.event === 'session.recording') {
    Object.assign(body, {
      decision_id: input.decisionId,
      ...(input.decisionVerified === undefined ? {} : { decision_verified: input.decisionVerified }),
      recording: input.recording,
    });
  } else if (input.event === 'session.end') {
    Object.assign(body, {
      duration_ms: input.durationMs,
      statements: input.statements,
      rows: input.rows,
      bytes: input.bytes,
      masked_cells: input.maskedCells,
      ...(input.reason === undefined ? {} : { reason: input.reason }),
    });
  }
  return { stream: 'sessions', key: input.session.id, body };
}

/**
 * The body of a run of statements (stream `sessions`): the common fields as for one statement,
 * `event_id` the record's own (fresh unless given), `time` the first statement's, then
 * `statements: [{event_id, time, statement, decision_id, decision_reused?, status, error?,
 * duration_ms, rows?, bytes?, masked_cells?}]` (each exactly as a `session.statement` body has
 * them) and `totals {statements, failures, duration_ms, rows, bytes, masked_cells}`.
 */
export function buildSessionStatementsAuditEvent(input: SessionStatementsInput): AuditEvent {
  if (input.statements.length === 0) throw new TypeError('a session.statements record needs at least one statement');
  const statements = input.statements.map((statement) => ({
    event_id: statement.eventId ?? randomUUID(),
    time: (statement.time ?? new Date()).toISOString(),
    ...statementFields(statement),
  }));
  const body = {
    ...commonFields(input, input.time?.toISOString() ?? statements[0]!.time),
    statements,
    totals: statementTotals(input.statements),
  };
  return { stream: 'sessions', key: input.session.id, body };
}

/** The fields every session body starts with, in this order; `time` as the caller settled it. */
function commonFields(input: SessionEventBase & { readonly event: string }, time: string): Record<string, unknown> {
  return {
    event: input.event,
    schema_version: 1,
    event_id: input.eventId ?? randomUUID(),
    time,
    ...(input.receivedAt === undefined ? {} : { received_at: input.receivedAt.toISOString() }),
    protocol: input.protocol,
    session: { ...input.session },
    principal: input.principal,
    pep: { sub: input.pep.sub },
    resource: input.resource,
  };
}

function statementFields(input: SessionStatementFields): Record<string, unknown> {
  return {
    statement: { ...input.statement },
    decision_id: input.decisionId,
    ...(input.decisionReused === true ? { decision_reused: true } : {}),
    ...(input.decisionVerified === undefined ? {} : { decision_verified: input.decisionVerified }),
    status: input.status,
    ...(input.error === undefined ? {} : { error: input.error }),
    duration_ms: input.durationMs,
    ...(input.rows === undefined ? {} : { rows: input.rows }),
    ...(input.bytes === undefined ? {} : { bytes: input.bytes }),
    ...(input.maskedCells === undefined ? {} : { masked_cells: input.maskedCells }),
  };
}

/** What a reader of the run wants without adding up its entries; absent counts add nothing. */
function statementTotals(statements: readonly SessionStatementFields[]): Record<string, number> {
  let failures = 0;
  let durationMs = 0;
  let rows = 0;
  let bytes = 0;
  let maskedCells = 0;
  for (const statement of statements) {
    if (statement.status === 'failure') failures += 1;
    durationMs += statement.durationMs;
    rows += statement.rows ?? 0;
    bytes += statement.bytes ?? 0;
    maskedCells += statement.maskedCells ?? 0;
  }
  // Summed fractions of a millisecond pick up float noise (0.1 + 0.2): microseconds are plenty.
  return { statements: statements.length, failures, duration_ms: Math.round(durationMs * 1000) / 1000, rows, bytes, masked_cells: maskedCells };
}
