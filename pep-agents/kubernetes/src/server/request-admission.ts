import type { IncomingMessage } from 'node:http';
import { bearerToken, identityHeaderIn } from '../request/identity-headers.ts';
import { readRequestTarget } from '../request/request-target.ts';
import { kubeStatus, type KubeStatus } from '../status/kube-status.ts';

export interface AdmittedRequest {
  readonly path: string;
  readonly rawQuery: string;
  readonly token: string;
}

/**
 * What every request and upgrade must pass before it is read further: a target the API server
 * reads one way only, the caller's bearer token, and no header claiming another identity.
 */
export function admitRequest(incoming: IncomingMessage, identityHeaders: readonly string[]): AdmittedRequest | { readonly refusal: KubeStatus } {
  const target = readRequestTarget(incoming.url ?? '');
  if ('problem' in target) return { refusal: kubeStatus(400, `portcullis: ${target.problem}`) };
  const header = identityHeaderIn(incoming.headers, identityHeaders);
  if (header !== undefined) {
    return { refusal: kubeStatus(403, `portcullis: the ${header} header is not accepted: identity comes from your token alone (remove --as/--as-group or the header)`) };
  }
  const token = bearerToken(incoming.headers);
  if (token === undefined) return { refusal: kubeStatus(401, 'portcullis: a bearer token is required (the user token in your kubeconfig)') };
  return { path: target.path, rawQuery: target.rawQuery, token };
}
