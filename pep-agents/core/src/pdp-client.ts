import type { DecisionAnswer, DecisionRequest } from './decision-contract.ts';
import { isRecord, readDecisionAnswer } from './decision-answer-reader.ts';
import { failClosedAnswer } from './fail-closed-answer.ts';
import type { PdpTransport } from './pdp-transport.ts';

export interface DecideOptions {
  /** Ends the wait early (the client went away); the answer is then a fail-closed deny. */
  readonly signal?: AbortSignal;
}

/**
 * Asks the PDP whether an action may run. Always resolves, never rejects: a PDP that is down,
 * slow or confused yields a deny (`source: "pep"`) whose reason says which.
 */
export interface DecisionClient {
  decide(request: DecisionRequest, options?: DecideOptions): Promise<DecisionAnswer>;
}

const FAILURE_MESSAGES = {
  'pdp-unreachable': 'the policy decision point cannot be reached, so nothing runs',
  'pdp-timeout': 'the policy decision point did not answer in time, so nothing runs',
  'pdp-error': 'the policy decision point failed, so nothing runs',
  'pdp-bad-answer': 'the policy decision point gave an answer the PEP cannot read, so nothing runs',
} as const;

/** `POST /v1/decisions` over a PdpTransport. */
export class PdpDecisionClient implements DecisionClient {
  constructor(private readonly transport: PdpTransport) {}

  async decide(request: DecisionRequest, options: DecideOptions = {}): Promise<DecisionAnswer> {
    let result;
    try {
      result = await this.transport.call('POST', '/v1/decisions', request, options.signal ? { signal: options.signal } : {});
    } catch {
      // The transport promises never to throw; if one does, it is still no answer.
      return failClosedAnswer('pdp-error', FAILURE_MESSAGES['pdp-error']);
    }
    if (result.kind === 'failure') return failClosedAnswer(result.code, FAILURE_MESSAGES[result.code]);
    if (result.status >= 400) {
      // The PDP refused the request itself (bad PEP credential, invalid request …): a deny with its code.
      const body = result.body;
      if (isRecord(body) && typeof body.code === 'string' && typeof body.message === 'string') {
        return failClosedAnswer(body.code.slice(0, 64), `the policy decision point refused the request: ${body.message.slice(0, 256)}`);
      }
      return failClosedAnswer('pdp-bad-answer', FAILURE_MESSAGES['pdp-bad-answer']);
    }
    return readDecisionAnswer(result.body) ?? failClosedAnswer('pdp-bad-answer', FAILURE_MESSAGES['pdp-bad-answer']);
  }
}
