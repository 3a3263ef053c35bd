import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TokenVerifier, VerifiedPrincipal } from '../identity/token-verifier.ts';
import { readResourceBinding } from '../identity/resource-binding.ts';
import type { PdpMetrics } from '../metrics/pdp-metrics.ts';
import { PortcullisError } from '../errors/portcullis-error.ts';
import type { CallingPep } from '../decisions/decision-service.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The PEP the bearer token proved the caller to be, with the resources it fronts (PEP routes only). */
    caller?: CallingPep;
    /** The verified principal behind the bearer token (its token is not kept). */
    principal?: VerifiedPrincipal;
  }
}

/**
 * Requires `Authorization: Bearer <token>` of a principal holding the PEP role whose token names
 * the resources it fronts (`bindingClaim`); a PEP token without that binding is refused (403).
 */
export function pepAuthentication(verifier: TokenVerifier, pepRole: string, metrics: PdpMetrics, bindingClaim: string): RequestHandler {
  const authenticate = bearerWithRole(verifier, [pepRole], metrics, 'pep');
  return (request: Request, response: Response, next: NextFunction): void => {
    void authenticate(request, response, (error?: unknown) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      const principal = response.locals.principal!;
      const binding = readResourceBinding(principal.claims[bindingClaim], bindingClaim);
      if (!binding.ok) {
        metrics.tokenFailures.inc({ who: 'pep', code: 'pep-unbound' });
        next(new PortcullisError('forbidden', binding.message));
        return;
      }
      response.locals.caller = { sub: principal.sub, roles: principal.roles, resources: binding.binding };
      next();
    });
  };
}

/** Requires a bearer token of a principal holding one of `roles` (e.g. auditors for evidence). */
export function bearerWithRole(verifier: TokenVerifier, roles: readonly string[], metrics: PdpMetrics, who: string, options: { anyRole?: boolean } = {}) {
  const wanted = options.anyRole ? 'any' : roles.join(' or ');
  return async (request: Request, response: Response, next: NextFunction): Promise<void> => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      metrics.tokenFailures.inc({ who, code: 'token-missing' });
      response.setHeader('WWW-Authenticate', 'Bearer realm="portcullis"');
      next(new PortcullisError('unauthenticated', `a bearer token with the ${wanted} role is required`));
      return;
    }
    const result = await verifier.verify(match[1]);
    if (!result.ok) {
      metrics.tokenFailures.inc({ who, code: result.code });
      response.setHeader('WWW-Authenticate', `Bearer realm="portcullis", error="invalid_token"`);
      next(new PortcullisError('unauthenticated', `the bearer token was refused (${result.code})`, { token_error: result.code }));
      return;
    }
    if (!options.anyRole && !roles.some((role) => result.principal.roles.includes(role))) {
      next(new PortcullisError('forbidden', `the token lacks the ${wanted} role`));
      return;
    }
    response.locals.principal = result.principal;
    next();
  };
}

/**
 * A route both PEPs and console sessions use (one approval, its long-poll): the token is
 * checked by `first`, and one refused there for its audience alone is checked by `second`.
 */
export function eitherAudience(first: RequestHandler, second: RequestHandler): RequestHandler {
  return (request: Request, response: Response, next: NextFunction): void => {
    void first(request, response, (error?: unknown) => {
      if (error instanceof PortcullisError && error.details?.token_error === 'token-wrong-audience') {
        response.removeHeader('WWW-Authenticate');
        void second(request, response, next);
        return;
      }
      next(error);
    });
  };
}
