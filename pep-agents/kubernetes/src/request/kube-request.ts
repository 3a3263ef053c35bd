import type { IncomingHttpHeaders } from 'node:http';

/**
 * One HTTP request a client sent to the PEP, as it arrived: what is decided and forwarded is
 * made of these bytes, never of a re-parsed or normalised form.
 */
export interface KubeRequest {
  /** The HTTP method, as sent (Node reads it upper-case). */
  readonly method: string;
  /** The request target's path, raw (percent-escapes kept), without the query. */
  readonly path: string;
  /** Everything after the first '?', untouched; '' when there is none. */
  readonly rawQuery: string;
  readonly headers: IncomingHttpHeaders;
  /** The request body (empty when none was sent). */
  readonly body: Buffer;
}

/** The request target the API server is sent: the path and query bytes the PDP decided. */
export function requestTarget(request: Pick<KubeRequest, 'path' | 'rawQuery'>): string {
  return request.rawQuery === '' ? request.path : `${request.path}?${request.rawQuery}`;
}
