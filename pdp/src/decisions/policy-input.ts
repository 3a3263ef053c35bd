import type { DecisionRequestV1 } from '@portcullis/contract';
import type { EnrichedAction } from '../enrichment/action-enricher.ts';
import type { ResourceBinding } from '../identity/resource-binding.ts';
import type { VerifyResult } from '../identity/token-verifier.ts';

/** The PEP that asked, as the transport authenticated it. */
export interface CallingPep {
  readonly sub: string;
  readonly roles: readonly string[];
  /** The resources its credential fronts; the transport refuses requests about any other. */
  readonly resources: ResourceBinding;
}

/** The document `input` that policy evaluates (docs/policy-input.md). */
export interface PolicyInput {
  principal: Record<string, unknown>;
  pep: { sub: string; roles: readonly string[] };
  resource: Record<string, unknown>;
  action: EnrichedAction;
  session: Record<string, unknown>;
}

export function buildPolicyInput(request: DecisionRequestV1, verification: VerifyResult, pep: CallingPep, action: EnrichedAction): PolicyInput {
  return {
    principal: verification.ok
      ? { authenticated: true, error: null, sub: verification.principal.sub, iss: verification.principal.iss, kind: verification.principal.kind, roles: verification.principal.roles }
      : { authenticated: false, error: verification.code, sub: null, iss: null, kind: 'agent', roles: [] },
    pep: { sub: pep.sub, roles: pep.roles },
    resource: { environment: '', labels: {}, ...request.resource },
    action,
    session: { ...(request.session ?? {}) },
  };
}
