import { contractValidator, type ContractReading } from '../validation/contract-validator.ts';
import { DecisionRequestV1, MAX_TEXT } from './decision-request-v1.ts';

/** A decision request as read: `subject_token` is always there ('' when the caller sent none). */
export type ReadDecisionRequestV1 = DecisionRequestV1 & { subject_token: string };

export const decisionRequestV1Validator = contractValidator(DecisionRequestV1);

/**
 * Reads an untrusted `POST /v1/decisions` body: the request, or the first field refused with
 * what it must be. Beyond the schema: the bound parameters of one statement hold at most
 * MAX_TEXT characters in all, as its SQL text does.
 */
export function readDecisionRequestV1(body: unknown): ContractReading<ReadDecisionRequestV1> {
  const reading = decisionRequestV1Validator.read(body);
  if (!reading.ok) return reading;
  const request = reading.value;
  if (request.action.type === 'sql' && request.action.parameters) {
    let total = 0;
    for (const parameter of request.action.parameters) total += parameter.value?.length ?? 0;
    if (total > MAX_TEXT) {
      const problem = `must hold at most ${MAX_TEXT} characters in all`;
      return { ok: false, field: 'action.parameters', problem, message: `action.parameters ${problem}` };
    }
  }
  return { ok: true, value: { ...request, subject_token: request.subject_token ?? '' } };
}
