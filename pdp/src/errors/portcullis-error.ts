/** Every error code the PDP's API can answer with: a closed set, stable for clients. */
export const ERROR_CODES = {
  'malformed-json': 400,
  'invalid-request': 400,
  'unauthenticated': 401,
  'forbidden': 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'internal': 500,
  'policy-not-loaded': 503,
  'policy-error': 500,
  'audit-unavailable': 503,
  'approvals-unavailable': 503,
  /** Too many approval sockets (in all, or of one principal) are open. */
  'too-many-connections': 429,
  // Refused approval votes, named as the approval rules name them.
  'self-approval': 403,
  'role-not-allowed': 403,
  'kind-not-allowed': 403,
  'reason-required': 400,
  'already-voted': 409,
  'not-pending': 409,
  'expired': 409,
  'binding-mismatch': 409,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The one error type the core throws; transports map `code` to their own status. */
export class PortcullisError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'PortcullisError';
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code];
  }
}
