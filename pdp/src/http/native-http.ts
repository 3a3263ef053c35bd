import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallingPep } from '../decisions/policy-input.ts';
import type { VerifiedPrincipal } from '../identity/token-verifier.ts';

/**
 * What the PEP routes use of a request and a response: Node's own objects plus the few fields
 * the router and these middlewares set. The routes are written against these rather than
 * Express's types so they run unchanged in the PEP lane (pep-lane.ts), where requests never get
 * Express's prototypes, and in the Express app, whose objects are supersets of these.
 */
export type NativeRequest = IncomingMessage & {
  /** The parsed JSON body (json-body.ts); undefined when empty. */
  body?: unknown;
  /** Path parameters, set by the router. */
  params?: Record<string, string | string[] | undefined>;
};

/** What a PEP route's middlewares leave for the next: who is asking. */
export interface PepLocals {
  /** The PEP the bearer token proved the caller to be, with the resources it fronts (PEP routes only). */
  caller?: CallingPep;
  /** The verified principal behind the bearer token (its token is not kept). */
  principal?: VerifiedPrincipal;
}

export type NativeResponse = ServerResponse & { locals: PepLocals };

export type NativeNext = (error?: unknown) => void;

export type NativeHandler = (request: NativeRequest, response: NativeResponse, next: NativeNext) => void | Promise<void>;

export type NativeErrorHandler = (error: unknown, request: NativeRequest, response: NativeResponse, next: NativeNext) => void;
