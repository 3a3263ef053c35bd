import type { ApprovalV1, DecisionResponseV1, DecisionReuseV1, EnrichmentV1, PrincipalV1, SyntaxErrorV1 } from '@portcullis/contract';
import type { EnrichedAction } from '../enrichment/action-enricher.ts';
import type { VerifyResult } from '../identity/token-verifier.ts';
import type { PolicyOutcome } from './policy-result.ts';

export interface AnswerParts {
  readonly decisionId: string;
  readonly outcome: PolicyOutcome;
  readonly action: EnrichedAction;
  readonly verification: VerifyResult;
  readonly revision: string | null;
  readonly approval?: ApprovalV1 | undefined;
  readonly reuse?: DecisionReuseV1 | undefined;
  /** Where the PEP reports a parse error as the client's own syntax error (a deny by policy only). */
  readonly syntaxError?: SyntaxErrorV1 | undefined;
}

/** The decision answer, built once from what was decided: nothing is edited after the fact. */
export function decisionAnswer(parts: AnswerParts): DecisionResponseV1 {
  const { outcome, action } = parts;
  return {
    decision_id: parts.decisionId,
    effect: outcome.effect,
    reasons: outcome.reasons,
    obligations: outcome.approval ? { ...outcome.obligations, approval_requirement: outcome.approval } : outcome.obligations,
    ...(parts.approval ? { approval: parts.approval } : {}),
    ...(outcome.effect !== 'deny' ? enrichmentFor(action) : {}),
    ...(parts.reuse ? { reuse: parts.reuse } : {}),
    principal: principalResponse(parts.verification),
    policy_revision: parts.revision,
    ...(parts.syntaxError ? { syntax_error: parts.syntaxError } : {}),
  };
}

function enrichmentFor(action: EnrichedAction): { enrichment?: EnrichmentV1 } {
  if (action.type !== 'sql') return {};
  const statements = action.statements.map((statement) => ({
    kind: statement.kind,
    outputs: statement.outputs,
    copy_format: statement.copy_format === null ? null : { ...statement.copy_format },
    // FETCH's rows are a DECLARE's: the PEP ties them together by the cursor's name.
    ...(statement.cursor === null ? {} : { cursor: { ...statement.cursor } }),
  }));
  return { enrichment: { statements } };
}

/** The parser's complaint about the SQL, when there is one. */
export function syntaxErrorOf(action: EnrichedAction): SyntaxErrorV1 | undefined {
  if (action.type !== 'sql' || action.syntax_error === undefined) return undefined;
  return { message: action.syntax_error.message, position: action.syntax_error.position };
}

function principalResponse(verification: VerifyResult): PrincipalV1 {
  if (!verification.ok) return { sub: null, iss: null, kind: 'agent', authenticated: false };
  const { sub, iss, kind, exp, roles } = verification.principal;
  return { sub, iss, kind, authenticated: true, ...(exp === undefined ? {} : { expires_at: new Date(exp * 1000).toISOString() }), roles: [...roles] };
}
