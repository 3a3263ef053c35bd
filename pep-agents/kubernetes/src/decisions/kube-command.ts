import type { KubeRequest } from '../request/kube-request.ts';

/** One request as decided: the request, and for writes what its body is and what it will store. */
export interface KubeCommand {
  readonly request: KubeRequest;
  /** The body as JSON (absent when none was sent). */
  readonly body?: unknown;
  /** create/update/patch: the object as the API server will store it. */
  readonly object?: unknown;
}
