import type { MaskKindV1, MaskOfKind } from '@portcullis/contract';
import type { DecisionAnswer, DecisionRequest, MaskObligationV1, MaskTargetV1 } from './decision-contract.ts';
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
export interface DecisionClient<Mask extends MaskTargetV1 = MaskObligationV1> {
  decide(request: DecisionRequest, options?: DecideOptions): Promise<DecisionAnswer<Mask>>;
}

const FAILURE_MESSAGES = {
  'pdp-unreachable': 'the policy decision point cannot be reached, so nothing runs',
  'pdp-timeout': 'the policy decision point did not answer in time, so nothing runs',
  'pdp-error': 'the policy decision point failed, so nothing runs',
  'pdp-bad-answer': 'the policy decision point gave an answer the PEP cannot read, so nothing runs',
} as const;

/**
 * `POST /v1/decisions` over a PdpTransport. `maskKinds`: the kinds of mask obligation this PEP
 * enforces (SQL columns unless it says otherwise); an answer naming any other kind is no usable
 * answer, so it is a fail-closed deny.
 */
export class PdpDecisionClient<K extends MaskKindV1 = 'sql-column'> implements DecisionClient<MaskOfKind<K>> {
  private readonly maskKinds: readonly K[];

  constructor(
    private readonly transport: PdpTransport,
    options: { readonly maskKinds?: readonly K[] } = {},
  ) {
    this.maskKinds = options.maskKinds ?? (['sql-column'] as readonly MaskKindV1[] as readonly K[]);
  }

  async decide(request: DecisionRequest, options: DecideOptions = {}): Promise<DecisionAnswer<MaskOfKind<K>>> {
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
    return readDecisionAnswer(result.body, this.maskKinds) ?? failClosedAnswer('pdp-bad-answer', FAILURE_MESSAGES['pdp-bad-answer']);
  }
}
