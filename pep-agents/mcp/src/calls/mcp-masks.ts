import type { ByteStreamMaskV1, JsonPathMaskV1 } from '@portcullis/pep-core';

/** The mask obligations the MCP gateway takes: JSON paths into structured results, detectors over text content. */
export const MCP_MASK_KINDS = ['json-path', 'byte-stream'] as const;
export type McpMask = JsonPathMaskV1 | ByteStreamMaskV1;
