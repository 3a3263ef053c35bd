/**
 * The PEP's view of the decision contract: the V1 wire types of @portcullis/contract, plus what
 * only a PEP needs (where an answer came from). The contract package owns the wire shapes; this
 * file only names them for PEP code.
 */
import type { DecisionRequestV1, DecisionResponseV1, MaskObligationV1, MaskTargetV1, ObligationsV1 } from '@portcullis/contract';

export type {
  ActionV1,
  ApprovalState,
  ApprovalStatusV1,
  ApprovalV1,
  ApprovalVerdictV1,
  ByteStreamMaskV1,
  DecisionRequestV1,
  DecisionReuseV1,
  EnrichmentV1,
  JsonPathMaskV1,
  MaskKindV1,
  MaskOfKind,
  MaskObligationV1,
  MaskTargetV1,
  ReasonV1,
  ResourceV1,
  SessionV1,
  SqlParameterV1,
  SyntaxErrorV1,
} from '@portcullis/contract';

/** What a PEP asks about: the contract's request, `approval_id` included when presenting one. */
export type DecisionRequest = DecisionRequestV1;

/**
 * A decision as the PEP enforces it, its mask obligations narrowed to the kinds the PEP enforces
 * (SQL columns unless it says otherwise). `source: "pep"` marks a deny the PEP made up itself
 * because no usable answer came back (fail closed); such a decision has no record at the PDP.
 */
export interface DecisionAnswer<Mask extends MaskTargetV1 = MaskObligationV1> extends Omit<DecisionResponseV1, 'obligations'> {
  readonly source: 'pdp' | 'pep';
  obligations: Omit<ObligationsV1, 'mask'> & { mask: Mask[] };
}

/** A decision whatever kinds of mask it carries: for code that reads everything but the masks. */
export type AnyDecisionAnswer = DecisionAnswer<MaskTargetV1>;
