import type { ResultValueMasking } from './result-value-masking.ts';

type Json = Record<string, unknown>;

/**
 * The members MCP defines for each shape the masker rebuilds. When a result is masked, a member a
 * server adds beyond these is dropped: the masks reach only what they know, and an extra member
 * (a `note` beside a text block's `text`) could carry what they hide past them.
 */
export const MEMBERS = {
  toolResult: ['content', 'structuredContent', 'isError', '_meta'],
  readResult: ['contents', '_meta'],
  promptResult: ['description', 'messages', '_meta'],
  promptMessage: ['role', 'content'],
  textBlock: ['type', 'text', 'annotations', '_meta'],
  mediaBlock: ['type', 'data', 'mimeType', 'annotations', '_meta'],
  resourceBlock: ['type', 'resource', 'annotations', '_meta'],
  resourceLink: ['type', 'uri', 'name', 'title', 'description', 'mimeType', 'size', 'icons', 'annotations', '_meta'],
  resourceContents: ['uri', 'mimeType', 'text', 'blob', '_meta'],
} as const;

/** Free text among those members, scrubbed by the detectors (a link's or a prompt's description). */
const FREE_TEXT = new Set(['title', 'description']);

/** `value` with only `names`; `_meta` and free text kept scrubbed by the detectors (under paths, JSON in them masked too). */
export function knownMembers(value: Json, names: readonly string[], masking: ResultValueMasking): Json {
  const kept: Json = {};
  for (const name of names) {
    if (!Object.hasOwn(value, name)) continue;
    const member = value[name];
    kept[name] = name === '_meta' || (FREE_TEXT.has(name) && typeof member === 'string') ? masking.scrubValue(member) : member;
  }
  return kept;
}
