import { kubeStatus, type KubeStatus } from '../status/kube-status.ts';

/**
 * A request body as JSON, or the Status refusing it. The body is forwarded re-serialised from
 * what was parsed, so the API server reads exactly the value the PDP saw (a duplicate key, for
 * one, cannot mean one thing to the PDP and another upstream).
 */
export function parseJsonBody(body: Buffer, contentType: string | undefined): { readonly value: unknown; readonly forwardBody: Buffer } | { readonly refusal: KubeStatus } {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return { refusal: kubeStatus(415, `portcullis: request bodies of type "${mediaType || 'none'}" are not accepted here; send application/json`) };
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { refusal: kubeStatus(400, 'portcullis: the request body is not valid JSON') };
  }
  if (!isWellFormedUtf8(body)) return { refusal: kubeStatus(400, 'portcullis: the request body is not valid UTF-8') };
  return { value, forwardBody: Buffer.from(JSON.stringify(value), 'utf8') };
}

function isWellFormedUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
