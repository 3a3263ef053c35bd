import { createHash, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../audit/trail/canonical-json.ts';

/**
 * The binding of an approval to one command: sha256 (hex) over the principal (issuer and
 * subject: OIDC makes `sub` unique within one issuer only), the resource and the enriched action,
 * in canonical JSON so key order cannot change it.
 */
export function approvalBinding(principal: { readonly iss: string; readonly sub: string }, resource: unknown, action: unknown): string {
  return createHash('sha256').update(canonicalJson({ iss: principal.iss, sub: principal.sub, resource, action })).digest('hex');
}

/** Constant-time comparison, so a caller cannot learn a binding byte by byte from timing. */
export function bindingsMatch(expected: string, given: string): boolean {
  // Hashing first gives equal lengths, which timingSafeEqual needs, without leaking the length.
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
