import type { TokenVerifier } from '../identity/token-verifier.ts';
import { readResourceBinding } from '../identity/resource-binding.ts';
import type { PdpMetrics } from '../metrics/pdp-metrics.ts';
import { PortcullisError } from '../errors/portcullis-error.ts';
import type { NativeHandler, PepLocals } from './native-http.ts';

declare module 'express-serve-static-core' {
  // Express routes read what these middlewares leave in `response.locals` too.
  interface Locals extends PepLocals {}
}

/**
 * Requires `Authorization: Bearer <token>` of a principal holding the PEP role whose token names
 * the resources it fronts (`bindingClaim`); a PEP token without that binding is refused (403).
 */
export function pepAuthentication(verifier: TokenVerifier, pepRole: string, metrics: PdpMetrics, bindingClaim: string): NativeHandler {
  const authenticate = bearerWithRole(verifier, [pepRole], metrics, 'pep');
  return (request, response, next) => {
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
export function bearerWithRole(verifier: TokenVerifier, roles: readonly string[], metrics: PdpMetrics, who: string, options: { anyRole?: boolean } = {}): NativeHandler {
  const wanted = options.anyRole ? 'any' : roles.join(' or ');
  return async (request, response, next) => {
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
export function eitherAudience(first: NativeHandler, second: NativeHandler): NativeHandler {
  return (request, response, next) => {
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
