import type { NextFunction, Request, Response } from 'express';
import type { ErrorV1 } from '@portcullis/contract';
import { ApprovalStoreUnavailableError } from '../approvals/approval-store-unavailable-error.ts';
import { PortcullisError } from '../errors/portcullis-error.ts';

/** Maps any error to an ErrorV1 body with the status the code's table gives; never leaks internals. */
export function errorHandler(log: (message: string) => void) {
  return (error: unknown, _request: Request, response: Response, _next: NextFunction): void => {
    const known = toPortcullisError(error);
    if (known.code === 'internal') log(`internal error: ${(error as Error)?.stack ?? String(error)}`);
    if (response.headersSent) return;
    const body: ErrorV1 = { code: known.code, message: known.message, ...(known.details ? { details: known.details } : {}) };
    response.status(known.httpStatus).json(body);
  };
}

export function toPortcullisError(error: unknown): PortcullisError {
  if (error instanceof PortcullisError) return error;
  // The store's message names Redis and the failed call: enough for an operator, no secrets.
  if (error instanceof ApprovalStoreUnavailableError) return new PortcullisError('approvals-unavailable', 'the approval store cannot be reached; try again');
  return new PortcullisError('internal', 'internal error');
}
