import type { OutgoingHttpHeaders } from 'node:http';
import { jsonOnlyAccept } from './json-accept.ts';
import { masksAnything, type MaskingPlan } from './masking-plan.ts';

/**
 * The request headers the API server is sent, as the response plan needs them: when anything may
 * be masked, JSON is asked for (never protobuf, CBOR or YAML the relay could not mask) and no
 * compression (the relay decodes gzip anyway); otherwise the headers as they are.
 */
export function upstreamRequestHeaders(headers: OutgoingHttpHeaders, plan: MaskingPlan): OutgoingHttpHeaders {
  if (!masksAnything(plan)) return headers;
  const rewritten: OutgoingHttpHeaders = {};
  const accepts: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'accept' && value !== undefined) accepts.push(...(Array.isArray(value) ? value : [String(value)]));
    else if (lower !== 'accept-encoding') rewritten[name] = value;
  }
  rewritten.accept = jsonOnlyAccept(accepts);
  rewritten['accept-encoding'] = 'identity';
  return rewritten;
}
