/**
 * The PEP → PDP session-event contract, version 1: events as a PEP posts them to
 * `POST /v1/sessions/events` (snake_case, like the session audit record; the PDP's parser is
 * session-event-parser.ts). Result values never appear: only the command, its outcome and counts.
 */
export type SessionProtocol = 'sql' | 'kubernetes' | 'shell' | 'http';

interface SessionEventBaseV1 {
  /** Unique per event, so a batch resent after a lost answer can be told apart from new events. */
  readonly event_id: string;
  /** When it happened at the PEP (shipping is later). */
  readonly time: string;
  /** The caller's token; the PDP verifies it to name the principal. Never logged. */
  readonly subject_token?: string;
  readonly session: { readonly id: string; readonly client_addr?: string };
  readonly protocol: SessionProtocol;
  readonly resource: { readonly type: string; readonly name: string; readonly environment?: string };
}

export interface SessionStartEventV1 extends SessionEventBaseV1 {
  readonly event: 'session.start';
}

export interface SessionStatementEventV1 extends SessionEventBaseV1 {
  readonly event: 'session.statement';
  readonly statement: { readonly text: string; readonly kind?: string; readonly method?: string; readonly path?: string };
  readonly decision_id: string;
  /** True when the statement ran under an earlier decision of the same shape (DecisionReuseV1), not its own. */
  readonly decision_reused?: boolean;
  readonly status: 'success' | 'failure';
  readonly error?: string;
  readonly duration_ms: number;
  readonly rows?: number;
  readonly bytes?: number;
  readonly masked_cells?: number;
}

export interface SessionEndEventV1 extends SessionEventBaseV1 {
  readonly event: 'session.end';
  readonly duration_ms: number;
  readonly statements: number;
  readonly rows: number;
  readonly bytes: number;
  readonly masked_cells: number;
  readonly reason?: string;
}

export type SessionEventV1 = SessionStartEventV1 | SessionStatementEventV1 | SessionEndEventV1;
