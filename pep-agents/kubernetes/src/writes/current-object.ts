import { type KubeStatus, kubeStatus, STATUS_REASONS, type StatusCode } from '../status/kube-status.ts';
import type { KubeUpstream } from '../upstream/kube-upstream.ts';
import { isJsonObject, type JsonObject } from './json-value.ts';
import { getUpstreamJson } from './upstream-json.ts';

/**
 * The object a patch or an apply lands on: a GET of the write's own path (no query) through the
 * upstream with the PEP's credential (the read comes before the decision, so there is no
 * principal to impersonate yet; the object goes to policy only). `absent` when the API server
 * says 404; its own `Status` when it refuses the read; a 502 when its answer cannot be read.
 */
export type CurrentObject = { found: JsonObject } | { absent: KubeStatus } | { refusal: KubeStatus };

export async function readCurrentObject(upstream: KubeUpstream, path: string, maxBytes: number, signal?: AbortSignal): Promise<CurrentObject> {
  const answer = await getUpstreamJson(upstream, path, maxBytes, signal);
  if ('unreachable' in answer) return { refusal: kubeStatus(503, 'portcullis: the API server could not be reached to read the object this write changes; nothing was changed') };
  if ('unreadable' in answer) return { refusal: kubeStatus(502, 'portcullis: the object this write changes could not be read from the API server (too large or unreadable); nothing was changed') };
  const { status, json } = answer;
  if (status === 200 && isJsonObject(json)) return { found: json };
  const serverStatus = asStatus(json, status);
  if (status === 404) return { absent: serverStatus };
  if (status >= 400 && status < 500) return { refusal: serverStatus };
  return { refusal: kubeStatus(502, `portcullis: the API server answered ${status} when the object this write changes was read; nothing was changed`) };
}

/** The API server's own Status (names and reasons only, no object content), or one of ours. */
function asStatus(parsed: unknown, status: number): KubeStatus {
  const code: StatusCode = Object.hasOwn(STATUS_REASONS, status) ? (status as StatusCode) : 502;
  if (isJsonObject(parsed) && parsed.kind === 'Status' && typeof parsed.message === 'string') return kubeStatus(code, parsed.message);
  return kubeStatus(code, `portcullis: the API server answered ${status} when the object this write changes was read`);
}
