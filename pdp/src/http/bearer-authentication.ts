import type { NextFunction, Request, Response } from 'express';
import type { TokenVerifier, VerifiedPrincipal } from '../identity/token-verifier.ts';
import type { PdpMetrics } from '../metrics/pdp-metrics.ts';
import { PortcullisError } from '../errors/portcullis-error.ts';
import type { CallingPep } from '../decisions/decision-service.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    /** Who the bearer token proved the caller to be. */
    caller?: CallingPep;
    /** The verified principal behind the bearer token (its token is not kept). */
    principal?: VerifiedPrincipal;
  }
}

/** Requires `Authorization: Bearer <token>` of a principal holding the PEP role. */
export function pepAuthentication(verifier: TokenVerifier, pepRole: string, metrics: PdpMetrics) {
  return bearerWithRole(verifier, [pepRole], metrics, 'pep');
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
      next(new PortcullisError('unauthenticated', `the bearer token was refused (${result.code})`));
      return;
    }
    if (!options.anyRole && !roles.some((role) => result.principal.roles.includes(role))) {
      next(new PortcullisError('forbidden', `the token lacks the ${wanted} role`));
      return;
    }
    response.locals.caller = { sub: result.principal.sub, roles: result.principal.roles };
    response.locals.principal = result.principal;
    next();
  };
}
