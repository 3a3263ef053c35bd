import {
  splitStructuredMasks,
  ByteStreamMasker,
  byteStreamMasksSupported,
  JsonPathMasker,
  jsonPathMasksSupported,
  ValueScrubber,
  type AnyDecisionAnswer,
  type MaskStrategyRegistry,
} from '@portcullis/pep-core';
import type { McpMask } from '../calls/mcp-masks.ts';

/**
 * What one answer asks of the data a call sends back: the obligations' JSON paths (into the
 * structured result), the obligations' value detectors (over every text), and, for a principal
 * policy does not let read personal data in clear (`obligations.unmasked` not true), the SDK's
 * own detectors as defence in depth behind them.
 */
export interface MaskingPlan {
  readonly paths: JsonPathMasker | undefined;
  /** A fresh masker for one result (its count is that result's); undefined: no obligation names detectors. */
  readonly detectors: (() => ByteStreamMasker) | undefined;
  readonly scrubber: ValueScrubber | undefined;
}

/** Whether every obligation is one of the kinds this gateway enforces, and one it can read. */
export function masksSupported(masks: readonly McpMask[]): boolean {
  const { paths, detectors, unknown } = splitStructuredMasks(masks);
  return unknown === 0 && jsonPathMasksSupported(paths) && byteStreamMasksSupported(detectors);
}

// One for every plan: its detectors keep no state between texts.
const defenceInDepth = new ValueScrubber();

/** Unsupported obligations throw: check `masksSupported` first (the gate refuses the call when it fails). */
export function maskingPlan(answer: Pick<AnyDecisionAnswer, 'obligations'>, strategies: MaskStrategyRegistry): MaskingPlan {
  const { paths, detectors } = splitStructuredMasks(answer.obligations.mask as readonly McpMask[]);
  // An MCP result is one stream: an obligation naming a stream applies to it like one naming none.
  const unnamed = detectors.map(({ stream: _stream, ...mask }) => mask);
  return {
    paths: paths.length === 0 ? undefined : JsonPathMasker.for(paths, strategies),
    detectors: unnamed.length === 0 ? undefined : () => ByteStreamMasker.for(unnamed, 'result', strategies)!,
    scrubber: answer.obligations.unmasked === true ? undefined : defenceInDepth,
  };
}

/** Whether the answer carries mask obligations (then content no mask can reach is withheld). */
export function hasObligations(plan: MaskingPlan): boolean {
  return plan.paths !== undefined || plan.detectors !== undefined;
}

/** Whether anything in what the call sends back may have to change. */
export function masksAnything(plan: MaskingPlan): boolean {
  return hasObligations(plan) || plan.scrubber !== undefined;
}
