import type { VerifyResult } from '../../identity/token-verifier.ts';

/**
 * Who acted, as every audit body records it (the decision body builds the same shape): a
 * verified principal, or the reason its token failed. Never the token itself.
 */
export type AuditPrincipal =
  | { readonly authenticated: true; readonly sub: string; readonly iss: string; readonly kind: 'agent' | 'human'; readonly roles: readonly string[] }
  | { readonly authenticated: false; readonly error: string };

export function auditPrincipal(verification: VerifyResult): AuditPrincipal {
  if (!verification.ok) return { authenticated: false, error: verification.code };
  const { sub, iss, kind, roles } = verification.principal;
  return { authenticated: true, sub, iss, kind, roles: [...roles] };
}
