/**
 * The body types a write may carry, told from its Content-Type. JSON and YAML are read; the
 * binary encodings (protobuf, CBOR) and anything else are refused, since the resolver cannot see
 * what they would store. Parameters other than `charset=utf-8` are refused too.
 */
export type WriteBodyType = 'json' | 'yaml' | 'json-patch' | 'merge-patch' | 'strategic-merge-patch' | 'apply-patch';

const BODY_TYPES: Readonly<Record<string, WriteBodyType>> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
  'application/json-patch+json': 'json-patch',
  'application/merge-patch+json': 'merge-patch',
  'application/strategic-merge-patch+json': 'strategic-merge-patch',
  'application/apply-patch+yaml': 'apply-patch',
};

const PATCH_TYPES: ReadonlySet<WriteBodyType> = new Set(['json-patch', 'merge-patch', 'strategic-merge-patch', 'apply-patch']);

export type ContentTypeReading = { type: WriteBodyType; mediaType: string } | { refused: string };

export function readWriteContentType(header: string | undefined, method: string): ContentTypeReading {
  if (header === undefined || header.trim() === '') return { refused: 'the request has a body but no Content-Type' };
  const [rawType = '', ...parameters] = header.split(';');
  const mediaType = rawType.trim().toLowerCase();
  for (const parameter of parameters) {
    if (parameter.trim().toLowerCase().replace(/\s*=\s*/, '=') !== 'charset=utf-8') {
      return { refused: `Content-Type parameter "${parameter.trim()}" is not supported by the enforcement point` };
    }
  }
  const type = Object.hasOwn(BODY_TYPES, mediaType) ? BODY_TYPES[mediaType] : undefined;
  if (type === undefined) {
    return { refused: `Content-Type "${mediaType}" cannot be read by the enforcement point (it reads JSON and YAML bodies and the JSON, merge, strategic merge and apply patch types); send JSON` };
  }
  const isPatch = PATCH_TYPES.has(type);
  if (method === 'PATCH' && !isPatch) return { refused: `Content-Type "${mediaType}" is not a patch type` };
  if (method !== 'PATCH' && isPatch) return { refused: `Content-Type "${mediaType}" is only for PATCH` };
  return { type, mediaType };
}
