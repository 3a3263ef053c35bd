import type { Request, Response } from 'express';
import { parseDecisionRequestV1 } from '../../contract/decision-request-parser.ts';
import type { DecisionService } from '../../decisions/decision-service.ts';

/** POST /v1/decisions — the PEP → PDP contract. A deny is an answer (200), not an error. */
export function decisionsRoute(service: DecisionService) {
  return async (request: Request, response: Response): Promise<void> => {
    const decisionRequest = parseDecisionRequestV1(request.body);
    const decision = await service.decide(decisionRequest, response.locals.caller!);
    response.json(decision);
  };
}
