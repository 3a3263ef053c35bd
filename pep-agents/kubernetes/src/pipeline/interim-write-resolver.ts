import { kubeStatus } from '../status/kube-status.ts';
import { parseJsonBody } from './json-request-body.ts';
import type { WriteResolver } from './write-resolution.ts';

/**
 * Until patches are resolved: a JSON create or update is its own stored object; a PATCH is
 * refused, since what it would store cannot be shown to policy.
 */
export const interimWriteResolver: WriteResolver = async (request) => {
  if (request.method === 'PATCH') {
    return { refusal: kubeStatus(415, 'portcullis: PATCH requests are not supported by this enforcement agent yet; use create or replace') };
  }
  const parsed = parseJsonBody(request.body, request.headers['content-type']);
  if ('refusal' in parsed) return parsed;
  return { body: parsed.value, object: parsed.value, forwardBody: parsed.forwardBody, contentType: 'application/json' };
};
