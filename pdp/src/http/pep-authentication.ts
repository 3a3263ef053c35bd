import type { NextFunction, Request, Response } from 'express';
import type { TokenVerifier } from '../identity/token-verifier.ts';
import type { PdpMetrics } from '../metrics/pdp-metrics.ts';
import { PortcullisError } from '../errors/portcullis-error.ts';
import type { CallingPep } from '../decisions/decision-service.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    pep?: CallingPep;
  }
}

/** Requires `Authorization: Bearer <token>` of a principal holding the PEP role. */
export function pepAuthentication(verifier: TokenVerifier, pepRole: string, metrics: PdpMetrics) {
  return async (request: Request, response: Response, next: NextFunction): Promise<void> => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      metrics.tokenFailures.inc({ who: 'pep', code: 'token-missing' });
      response.setHeader('WWW-Authenticate', 'Bearer realm="portcullis"');
      next(new PortcullisError('unauthenticated', 'a PEP bearer token is required'));
      return;
    }
    const result = await verifier.verify(match[1]);
    if (!result.ok) {
      metrics.tokenFailures.inc({ who: 'pep', code: result.code });
      response.setHeader('WWW-Authenticate', `Bearer realm="portcullis", error="invalid_token"`);
      next(new PortcullisError('unauthenticated', `the PEP token was refused (${result.code})`));
      return;
    }
    if (!result.principal.roles.includes(pepRole)) {
      next(new PortcullisError('forbidden', `the PEP token lacks the ${pepRole} role`));
      return;
    }
    response.locals.pep = { sub: result.principal.sub, roles: result.principal.roles };
    next();
  };
}
