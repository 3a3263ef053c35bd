import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { MaskStrategyRegistry } from '@portcullis/pep-core';
import type { KubeMask } from '../pipeline/kube-masks.ts';
import type { RelayOutcome, ResponsePlan, ResponseRelay } from '../pipeline/response-relay.ts';
import { maskDocument } from './document-masker.ts';
import { relayMasked } from './masked-relay.ts';
import { type MaskingPlan, maskingPlan, responseMasksSupported } from './masking-plan.ts';
import { upstreamRequestHeaders } from './upstream-request-headers.ts';

/**
 * The responses part of the PEP: every answer relayed as it arrives, masked by the decision's
 * `json-path` and `byte-stream` obligations in whatever shape it takes (see masked-relay.ts), with
 * JSON asked of the API server whenever anything may be masked.
 */
export class MaskingResponseRelay implements ResponseRelay {
  // One plan per decision's masks: the headers and the relay of one request share it.
  private readonly plans = new WeakMap<readonly KubeMask[], MaskingPlan>();

  constructor(
    private readonly strategies: MaskStrategyRegistry,
    private readonly options: { readonly maxMaskedValueBytes?: number } = {},
  ) {}

  canMask(masks: readonly KubeMask[]): boolean {
    return responseMasksSupported(masks);
  }

  upstreamHeaders(headers: OutgoingHttpHeaders, masks: readonly KubeMask[]): OutgoingHttpHeaders {
    return upstreamRequestHeaders(headers, this.planFor(masks));
  }

  relay(upstream: IncomingMessage, client: ServerResponse, plan: ResponsePlan): Promise<RelayOutcome> {
    return relayMasked(upstream, client, this.planFor(plan.masks), plan.signal);
  }

  maskDocument(document: unknown, masks: readonly KubeMask[]): { readonly document: unknown; readonly masked: number } | undefined {
    if (!responseMasksSupported(masks)) return undefined;
    return maskDocument(document, this.planFor(masks));
  }

  private planFor(masks: readonly KubeMask[]): MaskingPlan {
    let plan = this.plans.get(masks);
    if (plan === undefined) {
      plan = maskingPlan(masks, this.strategies, this.options);
      this.plans.set(masks, plan);
    }
    return plan;
  }
}
