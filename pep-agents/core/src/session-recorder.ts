import { randomUUID } from 'node:crypto';
import type { ResourceV1 } from './decision-contract.ts';
import { isoTimeOf } from './iso-time.ts';
import { ValueScrubber } from './masking/value-scrubber.ts';
import type { SessionEventV1, SessionProtocol, SessionStatementEventV1 } from '@portcullis/contract';
import type { SessionEventSink } from './session-event-sink.ts';

export interface SessionRecorderOptions {
  readonly sink: SessionEventSink;
  readonly session: { readonly id: string; readonly client_addr?: string };
  readonly protocol: SessionProtocol;
  readonly resource: ResourceV1;
  /** The caller's token, sent with each event so the PDP names a verified principal. */
  readonly subjectToken?: string;
  /** Scrubs personal data out of upstream error texts before they are recorded; `null` turns it off. */
  readonly scrubber?: ValueScrubber | null;
  /** Milliseconds, monotonic enough for durations; replaceable in tests. */
  readonly clock?: () => number;
}

/** One command the session ran after a decision allowed it. */
export interface StatementRecord {
  readonly text: string;
  readonly kind?: string;
  readonly method?: string;
  readonly path?: string;
  readonly decisionId: string;
  /** The statement ran under an earlier decision of the same shape (a reuse grant). */
  readonly decisionReused?: boolean;
  readonly status: 'success' | 'failure';
  /** The upstream error's text when status is failure; never result values. */
  readonly error?: string;
  readonly durationMs: number;
  readonly rows?: number;
  readonly bytes?: number;
  readonly maskedCells?: number;
}

export interface SessionTotals {
  readonly statements: number;
  readonly rows: number;
  readonly bytes: number;
  readonly maskedCells: number;
}

// Bounds that keep one event well inside the PDP's limits and a batch small.
const MAX_STATEMENT_CHARS = 64 * 1024;
const MAX_ERROR_CHARS = 4096;
const MAX_REASON_CHARS = 128;
// Upstream errors echo values ("Key (email)=(…) already exists"): scrub them unless told not to.
const defaultScrubber = new ValueScrubber();

/**
 * The record of one session: start, each statement, end with totals. It only builds events and
 * hands them to the sink, so it costs the data path a few object allocations per statement.
 */
export class SessionRecorder {
  private readonly clock: () => number;
  private readonly scrubber: ValueScrubber | null;
  private startedAt: number | undefined;
  private finished = false;
  private statements = 0;
  private rows = 0;
  private bytes = 0;
  private maskedCells = 0;

  /** The same in every event of the session: built once, shared (events are only serialised). */
  private readonly sessionPart: SessionEventV1['session'];
  private readonly resourcePart: SessionEventV1['resource'];

  constructor(private readonly options: SessionRecorderOptions) {
    this.clock = options.clock ?? (() => performance.now());
    this.scrubber = options.scrubber === undefined ? defaultScrubber : options.scrubber;
    const { session, resource } = options;
    this.sessionPart = Object.freeze({ id: session.id, ...(session.client_addr === undefined ? {} : { client_addr: session.client_addr }) });
    // The PDP's session record carries type, name and environment only.
    this.resourcePart = Object.freeze({ type: resource.type, name: resource.name, ...(resource.environment === undefined ? {} : { environment: resource.environment }) });
  }

  get totals(): SessionTotals {
    return { statements: this.statements, rows: this.rows, bytes: this.bytes, maskedCells: this.maskedCells };
  }

  get ended(): boolean {
    return this.finished;
  }

  /** Whether a statement run now would be recorded; when not, the PEP refuses it (AU-5). */
  canRecord(): boolean {
    return this.options.sink.hasCapacity();
  }

  /** Waits up to `timeoutMs` for the record to catch up; false: it did not, and the statement is refused. */
  waitToRecord(timeoutMs: number): Promise<boolean> {
    return this.options.sink.waitForCapacity(timeoutMs);
  }

  start(): void {
    if (this.startedAt !== undefined) return;
    this.startedAt = this.clock();
    this.options.sink.submit(this.base('session.start'));
  }

  statement(record: StatementRecord): void {
    if (this.finished) return;
    this.start();
    this.statements += 1;
    this.rows += record.rows ?? 0;
    this.bytes += record.bytes ?? 0;
    this.maskedCells += record.maskedCells ?? 0;
    // Built field by field rather than with spreads: this runs for every statement of every session.
    const statement: Mutable<SessionStatementEventV1['statement']> = { text: truncate(record.text, MAX_STATEMENT_CHARS) };
    if (record.kind !== undefined) statement.kind = record.kind;
    if (record.method !== undefined) statement.method = record.method;
    if (record.path !== undefined) statement.path = record.path;
    const event = this.base('session.statement') as Mutable<SessionStatementEventV1>;
    event.statement = statement;
    event.decision_id = record.decisionId;
    if (record.decisionReused === true) event.decision_reused = true;
    event.status = record.status;
    if (record.error !== undefined) event.error = this.scrub(truncate(record.error, MAX_ERROR_CHARS));
    event.duration_ms = nonNegative(record.durationMs);
    if (record.rows !== undefined) event.rows = count(record.rows);
    if (record.bytes !== undefined) event.bytes = count(record.bytes);
    if (record.maskedCells !== undefined) event.masked_cells = count(record.maskedCells);
    this.options.sink.submit(event);
  }

  /** Ends the record once; later calls do nothing. `reason` is kebab-case: client-closed, upstream-closed … */
  end(reason?: string): void {
    if (this.finished) return;
    this.start();
    this.finished = true;
    this.options.sink.submit({
      ...this.base('session.end'),
      duration_ms: nonNegative(this.clock() - this.startedAt!),
      statements: this.statements,
      rows: this.rows,
      bytes: this.bytes,
      masked_cells: this.maskedCells,
      ...(reason === undefined ? {} : { reason: truncate(reason, MAX_REASON_CHARS) }),
    });
  }

  private base<E extends SessionEventV1['event']>(event: E): EventBase<E> {
    const base: EventBase<E> = {
      event_id: randomUUID(),
      time: isoTimeOf(Date.now()),
      session: this.sessionPart,
      protocol: this.options.protocol,
      resource: this.resourcePart,
      event,
    };
    if (this.options.subjectToken) base.subject_token = this.options.subjectToken;
    return base;
  }

  private scrub(text: string): string {
    return this.scrubber ? this.scrubber.scrubText(text).text : text;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What every event of a session carries, still open for the event's own fields. */
type EventBase<E extends SessionEventV1['event']> = Mutable<Pick<SessionEventV1, 'event_id' | 'time' | 'subject_token' | 'session' | 'protocol' | 'resource'>> & { event: E };

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.round(value * 1000) / 1000 : 0;
}

function count(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
