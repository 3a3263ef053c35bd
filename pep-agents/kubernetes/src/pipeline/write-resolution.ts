import type { KubeRequest } from '../request/kube-request.ts';
import type { KubeStatus } from '../status/kube-status.ts';
import type { KubeUpstream } from '../upstream/kube-upstream.ts';

/**
 * What a create, update or patch will do, resolved before the decision: the body as sent (for
 * `action.body`), the object as the API server will store it (`action.object`), and the body and
 * content type forwarded, which must store nothing other than that object.
 */
export type WriteResolution =
  | { readonly body: unknown; readonly object: unknown; readonly forwardBody: Buffer; readonly contentType: string }
  | { readonly refusal: KubeStatus };

export interface WriteResolveOptions {
  /** The request-body limit (also a bound on the current object read). */
  readonly bodyLimit: number;
  readonly signal?: AbortSignal;
}

/**
 * The seam of the writes part: called for every POST, PUT and PATCH (non-upgrade) with a body,
 * before the decision. main.ts plugs in `resolveWrite` (src/writes/).
 */
export type WriteResolver = (request: KubeRequest, upstream: KubeUpstream, options: WriteResolveOptions) => Promise<WriteResolution>;
