import type { DecisionAnswer, MaskObligationV1, MaskTargetV1 } from './decision-contract.ts';
import type { Refusal } from './fail-closed.ts';

/** Why the command gate does not let a command run; the protocol adapter words it for its client. */
export type GateRefusal<Mask extends MaskTargetV1 = MaskObligationV1> =
  /** The PDP said no, no decision could be had (the PEP failed closed), or the approval was not granted in time. */
  | { readonly reason: 'decision'; readonly answer: DecisionAnswer<Mask>; readonly refusal: Refusal }
  /** The session record cannot take another command: no record, no action (AU-5). */
  | { readonly reason: 'record-unavailable' }
  /** Allowed, on a token already expired here (the PDP may allow a little clock skew; the PEP does not). */
  | { readonly reason: 'token-expired'; readonly answer: DecisionAnswer<Mask> }
  /** Allowed only with masks this PEP cannot apply to the command's output. */
  | { readonly reason: 'masking-unavailable'; readonly answer: DecisionAnswer<Mask> };
