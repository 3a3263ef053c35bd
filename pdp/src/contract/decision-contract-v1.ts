/**
 * The PEP → PDP decision contract, version 1. Every PEP and external client depends on these
 * shapes: extend by adding optional fields, never by changing one.
 */
export type EffectV1 = 'allow' | 'deny' | 'approval_required';

export interface ResourceV1 {
  type: string;
  name: string;
  environment?: string;
  labels?: Record<string, string>;
}

export type ActionV1 =
  /** `parameters`: the values one execution binds to $1, $2 … (a PEP decides a statement that needs approval with them). */
  | { type: 'sql'; sql: string; parameters?: SqlParameterV1[] }
  | { type: 'kubernetes'; method: string; path: string; query?: string | Record<string, string | string[]>; body?: unknown }
  | { type: 'shell'; command: string }
  /** A session being opened on the resource (a PEP's login step); startup details as the client sent them. */
  | { type: 'connect'; protocol: string; database?: string; user?: string; application_name?: string }
  | { type: 'http'; method: string; path: string; query?: string | Record<string, string | string[]>; headers?: Record<string, string>; body?: unknown };

/** One bound parameter as text (null for SQL NULL), with the type the client declared (0 or absent: the server infers it). */
export interface SqlParameterV1 {
  value: string | null;
  type_oid?: number;
}

export interface SessionV1 {
  id?: string;
  client_addr?: string;
}

export interface DecisionRequestV1 {
  subject_token: string;
  resource: ResourceV1;
  action: ActionV1;
  session?: SessionV1;
  /** Presents an approval granted for exactly this request; the PDP consumes it (single use). */
  approval_id?: string;
  /**
   * An approval_required answer opens no approval: the PEP will ask again with what the approval
   * must be bound to (an extended-protocol statement is decided at Parse, approved at Bind with its values).
   */
  defer_approval?: boolean;
}

export interface ReasonV1 {
  code: string;
  message: string;
}

export interface MaskObligationV1 {
  table: string;
  column: string;
  strategy: string;
  /**
   * For a value computed from the column (reverse(email), split_part(…)) rather than the column
   * as is: a strategy that hides all of it (hash, redact, null). Absent: redact. A PEP never
   * applies one weaker than `strategy`, nor one that keeps part of the value.
   */
  computed_strategy?: string;
}

export interface ObligationsV1 {
  mask: MaskObligationV1[];
  record: boolean;
  /** The principal reads personal data in clear (no value detectors, views as any relation). */
  unmasked?: boolean;
  /**
   * `mask` names every sensitive column there is, not only those the statement names: a PEP may
   * then mask a column it traces to base columns (a view's) by `mask`; otherwise it must redact it.
   */
  mask_complete?: boolean;
  [extension: string]: unknown;
}

export interface ApprovalV1 {
  id: string;
  status: string;
  expires_at: string;
  /** For a window approval: until when it covers the principal's held commands on the resource. */
  window_ends_at?: string;
  /** Where a person approves it (the web console), when the PDP knows its public URL. */
  console_url?: string;
}

export interface PrincipalV1 {
  sub: string | null;
  iss: string | null;
  kind: 'agent' | 'human';
  authenticated: boolean;
  /** When the subject token expires (ISO 8601): a PEP stops relying on this answer from then on. */
  expires_at?: string;
}

/**
 * What the PDP's parse found that a PEP needs to enforce the answer (SQL: per statement, the
 * result columns and what each is computed from, and COPY's row format), so no PEP parses SQL.
 */
export interface EnrichmentV1 {
  statements: {
    kind: string;
    outputs: unknown[] | null;
    copy_format: Record<string, unknown> | null;
    /** DECLARE, FETCH, MOVE, CLOSE: the cursor the statement is about (absent for other statements). */
    cursor?: EnrichmentCursorV1;
  }[];
}

/** A cursor statement's cursor: a PEP masks FETCH's rows by the outputs of the DECLARE of that name. */
export interface EnrichmentCursorV1 {
  /** As the server knows it (unquoted names lower-cased, quoted ones exact); null for CLOSE ALL. */
  name: string | null;
  operation: 'declare' | 'fetch' | 'move' | 'close';
  /** DECLARE … WITH HOLD: the cursor outlives the commit of its transaction. */
  hold: boolean;
}

/**
 * An allow that also holds, in the same session, for statements whose text differs from the
 * decided one in literal values alone (numbers and quoted strings), until `expires_at`. Granted
 * only when policy opts in and the PDP judged the statement's kind literal-insensitive (plain DML,
 * see decision-reuse.ts); the PEP records each statement it runs under it with this decision_id.
 */
export interface DecisionReuseV1 {
  scope: 'statement-shape';
  expires_at: string;
}

export interface DecisionResponseV1 {
  decision_id: string;
  effect: EffectV1;
  reasons: ReasonV1[];
  obligations: ObligationsV1;
  approval?: ApprovalV1;
  /** SQL actions that are not denied: see EnrichmentV1. */
  enrichment?: EnrichmentV1;
  /** Present only when policy lets this allow stand for more statements: see DecisionReuseV1. */
  reuse?: DecisionReuseV1;
  principal: PrincipalV1;
  policy_revision: string | null;
  /**
   * A SQL text the PostgreSQL parser rejected (always a deny): the parser's message and 1-based
   * character position, so a PEP can answer as the database would (SQLSTATE 42601, field P).
   */
  syntax_error?: SyntaxErrorV1;
}

export interface SyntaxErrorV1 {
  message: string;
  position: number;
}

export interface ErrorV1 {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * `POST /v1/sql/outputs` (role `pep`): the output provenance of one SELECT, as a decision's
 * enrichment gives it, for SQL a PEP found outside any decision (a view's definition). An
 * analysis, not a decision: no policy is evaluated and nothing is audited.
 */
export interface SqlOutputsRequestV1 {
  sql: string;
  /** Where the SQL comes from: the PDP refuses (403) a resource the PEP's credential does not front. */
  resource?: { type: string; name: string };
}

export interface SqlOutputsResponseV1 {
  /** One entry per result column, in order: `name`, `star`, `star_table`, `direct`, `derived_from`. */
  outputs: unknown[];
  /** Every function the statement calls anywhere, lower case, schema dropped. */
  functions: string[];
}
