/** The approval store could not answer (Redis down or too slow): callers deny with this code. */
export class ApprovalStoreUnavailableError extends Error {
  readonly code = 'approvals-unavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApprovalStoreUnavailableError';
  }
}
