import type { ErrorV1 } from '@portcullis/contract';
import { ApprovalStoreUnavailableError } from '../approvals/approval-store-unavailable-error.ts';
import { PortcullisError } from '../errors/portcullis-error.ts';
import { sendJson } from './json-answer.ts';
import type { NativeErrorHandler } from './native-http.ts';

/** Maps any error to an ErrorV1 body with the status the code's table gives; never leaks internals. */
export function errorHandler(log: (message: string) => void): NativeErrorHandler {
  return (error, _request, response, _next) => {
    const known = toPortcullisError(error);
    if (known.code === 'internal') log(`internal error: ${(error as Error)?.stack ?? String(error)}`);
    if (response.headersSent) return;
    const body: ErrorV1 = { code: known.code, message: known.message, ...(known.details ? { details: known.details } : {}) };
    sendJson(response, known.httpStatus, body);
  };
}

export function toPortcullisError(error: unknown): PortcullisError {
  if (error instanceof PortcullisError) return error;
  // The store's message names Redis and the failed call: enough for an operator, no secrets.
  // The router could not percent-decode a path parameter (/v1/data/%ZZ): the caller's bad request, not a fault of ours.
  if (error instanceof URIError) return new PortcullisError('invalid-request', 'the request path is not valid percent-encoding');
  if (error instanceof ApprovalStoreUnavailableError) return new PortcullisError('approvals-unavailable', 'the approval store cannot be reached; try again');
  return new PortcullisError('internal', 'internal error');
}
