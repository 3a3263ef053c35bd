/** The reasons a call to the PDP produced no usable answer; each becomes a fail-closed deny. */
export type PdpFailureCode = 'pdp-unreachable' | 'pdp-timeout' | 'pdp-error' | 'pdp-bad-answer';

export type PdpCallResult =
  /** The PDP answered 2xx or 4xx with a JSON body; reading it is the caller's business. */
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown }
  /**
   * No answer a PEP may act on. `detail` names the cause for logs; it never holds a token. A 5xx
   * keeps its status and JSON body (e.g. how much of a batch was taken before the PDP failed).
   */
  | { readonly kind: 'failure'; readonly code: PdpFailureCode; readonly detail: string; readonly status?: number; readonly body?: unknown };

export interface PdpCallOptions {
  /** Overrides the transport's deadline for this call (a long poll needs longer). */
  readonly deadlineMs?: number;
  /** Ends the call early; it then fails as `pdp-timeout` with detail "aborted". */
  readonly signal?: AbortSignal;
}

/**
 * JSON calls to the PDP with the PEP's credential. Never throws: every way a call can go wrong
 * comes back as a `failure`, so no caller can turn an exception into an allow by mistake.
 */
export interface PdpTransport {
  call(method: 'GET' | 'POST', path: string, body?: unknown, options?: PdpCallOptions): Promise<PdpCallResult>;
  /** Closes the kept-alive connections. */
  close(): void;
}
