import {
  splitStructuredMasks,
  ByteStreamMasker,
  byteStreamMasksSupported,
  JsonPathMasker,
  jsonPathMasksSupported,
  type MaskStrategyRegistry,
} from '@portcullis/pep-core';
import type { KubeMask } from '../pipeline/kube-masks.ts';
import { liftToObjectPlaces } from './object-path-lifting.ts';

/** Masked JSON values and watch events are whole in memory while masked; larger ones are refused. */
export const DEFAULT_MAX_MASKED_VALUE_BYTES = 64 * 1024 * 1024;

/**
 * How one response is relayed, from the decision's mask obligations: untouched when there are
 * none; otherwise JSON documents and watch events masked by the paths (lifted to every place an
 * object sits) and by the detectors on their string values, and text (pod logs) by the detectors.
 * A byte-stream obligation's `stream` is not narrowed here: an HTTP response is one stream.
 */
export interface MaskingPlan {
  readonly pathMasker: JsonPathMasker | undefined;
  /** Builds a fresh masker for one text stream or one document's strings. */
  readonly detectorMasker: (() => ByteStreamMasker) | undefined;
  readonly maxMaskedValueBytes: number;
}

/** Whether the relay can honour every one of these obligations (the request is refused when not). */
export function responseMasksSupported(masks: readonly KubeMask[]): boolean {
  const { paths, detectors, unknown } = splitStructuredMasks(masks);
  return unknown === 0 && jsonPathMasksSupported(liftToObjectPlaces(paths)) && byteStreamMasksSupported(detectors);
}

/** Unsupported obligations throw: check `responseMasksSupported` first. */
export function maskingPlan(
  masks: readonly KubeMask[],
  strategies: MaskStrategyRegistry,
  options: { readonly maxMaskedValueBytes?: number } = {},
): MaskingPlan {
  const { paths, detectors } = splitStructuredMasks(masks);
  const unnamed = detectors.map(({ stream: _stream, ...mask }) => mask);
  return {
    pathMasker: paths.length === 0 ? undefined : JsonPathMasker.for(liftToObjectPlaces(paths), strategies),
    detectorMasker: unnamed.length === 0 ? undefined : () => ByteStreamMasker.for(unnamed, 'response', strategies)!,
    maxMaskedValueBytes: options.maxMaskedValueBytes ?? DEFAULT_MAX_MASKED_VALUE_BYTES,
  };
}

/** Whether anything in the response may need masking (then JSON is asked for, and nothing is relayed untouched). */
export function masksAnything(plan: MaskingPlan): boolean {
  return plan.pathMasker !== undefined || plan.detectorMasker !== undefined;
}
