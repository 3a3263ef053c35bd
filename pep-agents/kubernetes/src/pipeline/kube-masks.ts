import type { ByteStreamMaskV1, JsonPathMaskV1 } from '@portcullis/pep-core';

/** The mask obligations the Kubernetes PEP takes: JSON paths into objects, detectors over byte streams (logs). */
export const KUBE_MASK_KINDS = ['json-path', 'byte-stream'] as const;
export type KubeMask = JsonPathMaskV1 | ByteStreamMaskV1;
