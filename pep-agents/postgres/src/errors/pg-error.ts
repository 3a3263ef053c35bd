/** The SQLSTATE codes this PEP answers with; each is one a libpq client already knows how to show. */
export const SQLSTATE = {
  protocolViolation: '08P01',
  connectionFailure: '08006',
  invalidAuthorization: '28000',
  invalidPassword: '28P01',
  insufficientPrivilege: '42501',
  featureNotSupported: '0A000',
  queryCanceled: '57014',
  adminShutdown: '57P01',
  cannotConnectNow: '57P03',
  tooManyConnections: '53300',
  invalidParameterValue: '22023',
  invalidStatementName: '26000',
  syntaxError: '42601',
  invalidCursorName: '34000',
  internalError: 'XX000',
} as const;

export type SqlState = (typeof SQLSTATE)[keyof typeof SQLSTATE];

/** FATAL ends the connection after the message; ERROR ends only the statement. */
export type PgSeverity = 'ERROR' | 'FATAL';

export interface PgErrorOptions {
  readonly severity?: PgSeverity;
  readonly detail?: string;
  readonly hint?: string;
  /** 1-based character offset into the statement text the error points at (the P field). */
  readonly position?: number;
}

/**
 * An error the PEP shows the client as a native ErrorResponse. Its text is what the client reads:
 * it never carries tokens, passwords or result values.
 */
export class PgError extends Error {
  readonly severity: PgSeverity;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly position: number | undefined;

  constructor(
    /** One of SQLSTATE, or a code the core's refusal mapping chose. */
    readonly sqlState: SqlState | string,
    message: string,
    options: PgErrorOptions = {},
  ) {
    super(message);
    this.name = 'PgError';
    this.severity = options.severity ?? 'ERROR';
    this.detail = options.detail;
    this.hint = options.hint;
    this.position = options.position;
  }

  get fatal(): boolean {
    return this.severity === 'FATAL';
  }
}

/** Bytes that break the protocol's framing or grammar: the connection cannot go on. */
export function protocolViolation(message: string): PgError {
  return new PgError(SQLSTATE.protocolViolation, message, { severity: 'FATAL' });
}
