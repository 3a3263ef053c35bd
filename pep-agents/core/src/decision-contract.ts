/**
 * The PEP's view of the decision contract: the PDP's V1 wire types, plus what only a PEP needs
 * (where an answer came from, the approval long-poll answer). The PDP package owns the wire
 * shapes; this file only names them for PEP code.
 */
import type {
  ActionV1,
  ApprovalV1,
  DecisionRequestV1,
  DecisionResponseV1,
  DecisionReuseV1,
  EnrichmentV1,
  MaskObligationV1,
  ReasonV1,
  ResourceV1,
  SessionV1,
  SqlParameterV1,
  SyntaxErrorV1,
} from '@portcullis/pdp/contract';

export type { ActionV1, ApprovalV1, DecisionRequestV1, DecisionReuseV1, EnrichmentV1, MaskObligationV1, ReasonV1, ResourceV1, SessionV1, SqlParameterV1, SyntaxErrorV1 };

/** What a PEP asks about: the contract's request, `approval_id` included when presenting one. */
export type DecisionRequest = DecisionRequestV1;

/**
 * A decision as the PEP enforces it. `source: "pep"` marks a deny the PEP made up itself because
 * no usable answer came back (fail closed); such a decision has no record at the PDP.
 */
export interface DecisionAnswer extends DecisionResponseV1 {
  readonly source: 'pdp' | 'pep';
}

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'executed';

export interface ApprovalVerdictV1 {
  approver: string;
  verdict: string;
  reason?: string;
  at: string;
}

/** `GET /v1/approvals/{id}` answer's `approval`. */
export interface ApprovalStatusV1 {
  id: string;
  status: ApprovalState;
  expires_at: string;
  decisions: ApprovalVerdictV1[];
}
