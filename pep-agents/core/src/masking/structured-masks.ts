import type { ByteStreamMaskV1, JsonPathMaskV1, MaskTargetV1 } from '../decision-contract.ts';

/** A structured answer's masks by how they apply: JSON paths, detectors, and a count of any other kind (which such a PEP refuses). */
export interface StructuredMasks {
  readonly paths: JsonPathMaskV1[];
  readonly detectors: ByteStreamMaskV1[];
  readonly unknown: number;
}

/** Sorts the mask obligations of a JSON answer (a Kubernetes object, an MCP result) by kind. */
export function splitStructuredMasks(masks: readonly MaskTargetV1[]): StructuredMasks {
  const paths: JsonPathMaskV1[] = [];
  const detectors: ByteStreamMaskV1[] = [];
  let unknown = 0;
  for (const mask of masks) {
    if (mask.kind === 'json-path') paths.push(mask);
    else if (mask.kind === 'byte-stream') detectors.push(mask);
    else unknown += 1;
  }
  return { paths, detectors, unknown };
}
