import { randomUUID } from 'node:crypto';
import type { DecisionAnswer, MaskObligationV1, MaskTargetV1 } from './decision-contract.ts';

/** The id prefix of decisions a PEP made itself; the PDP holds no record of them. */
export const LOCAL_DECISION_PREFIX = 'pep-local-';

/**
 * A deny made by the PEP when no usable answer came back. It masks nothing because nothing may
 * run, and names no principal because none was verified.
 */
export function failClosedAnswer<Mask extends MaskTargetV1 = MaskObligationV1>(code: string, message: string): DecisionAnswer<Mask> {
  return {
    source: 'pep',
    decision_id: `${LOCAL_DECISION_PREFIX}${randomUUID()}`,
    effect: 'deny',
    reasons: [{ code, message }],
    obligations: { mask: [], record: true },
    principal: { sub: null, iss: null, kind: 'agent', authenticated: false },
    policy_revision: null,
  };
}
