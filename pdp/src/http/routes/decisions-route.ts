import { parseDecisionRequestV1 } from '../contract-body.ts';
import type { DecisionService } from '../../decisions/decision-service.ts';
import { assertFronts } from '../resource-authorization.ts';
import { sendJsonAnswer } from '../json-answer.ts';
import type { NativeRequest, NativeResponse } from '../native-http.ts';

/**
 * POST /v1/decisions — the PEP → PDP contract. A deny is an answer (200), not an error; a
 * resource the PEP's credential does not front is refused (403) before anything is decided.
 */
export function decisionsRoute(service: DecisionService) {
  return async (request: NativeRequest, response: NativeResponse): Promise<void> => {
    const decisionRequest = parseDecisionRequestV1(request.body);
    const caller = response.locals.caller!;
    assertFronts(caller, decisionRequest.resource, 'resource');
    const decision = await service.decide(decisionRequest, caller);
    sendJsonAnswer(response, decision);
  };
}
