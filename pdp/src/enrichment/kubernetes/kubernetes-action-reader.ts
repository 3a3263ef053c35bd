/**
 * A Kubernetes action as policy sees it: the RequestInfo the API server's authorizer would read
 * (../kubernetes-request-info.ts), the canonical path, and what the request does beyond its
 * verb: the pod specs a create, update or patch will store, the command of an exec, the options
 * of an attach, the ports of a port-forward (kubernetes-facts.ts). A Secret's values are
 * withheld from the body and object passed on (secret-values.ts).
 */
import type { ActionV1 } from '@portcullis/contract';
import type { EnrichedKubernetesAction } from '../enriched-action.ts';
import { canonicalKubernetesPath, kubernetesQueryValues, resolveKubernetesRequest, type KubernetesRequestInfo } from '../kubernetes-request-info.ts';
import type { ShellAnalyzer } from '../shell-analyzer.ts';
import type { KubernetesWriteFacts } from './kubernetes-facts.ts';
import { findPodSpecs, ObjectTooLargeError } from './pod-spec-facts.ts';
import { withholdSecretValues } from './secret-values.ts';
import { attachFacts, execFacts, portForwardFacts } from './stream-request-facts.ts';

type KubernetesAction = Extract<ActionV1, { type: 'kubernetes' }>;

const WRITE_VERBS = new Set(['create', 'update', 'patch']);
/** Subresources that open a stream rather than store an object (a POST to them is verb create). */
const STREAM_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);

export async function enrichKubernetesAction(action: KubernetesAction, shell: ShellAnalyzer): Promise<EnrichedKubernetesAction> {
  const request = resolveKubernetesRequest(action.method, action.path, action.query);
  const query = kubernetesQueryValues(action.path, action.query);
  const onPod = request.is_resource_request && request.resource === 'pods';
  // Facts are read from the object as sent; only then are a Secret's values withheld.
  const write = isWrite(request) ? writeFacts(action, request) : null;
  const secret = request.is_resource_request && request.resource === 'secrets' && (action.body !== undefined || action.object !== undefined);
  return {
    ...action,
    ...(secret && action.body !== undefined ? { body: withholdSecretValues(action.body) } : {}),
    ...(secret && action.object !== undefined ? { object: withholdSecretValues(action.object) } : {}),
    secret_values_withheld: secret,
    request,
    canonical_path: canonicalKubernetesPath(action.path),
    write,
    exec: onPod && request.subresource === 'exec' ? await execFacts(query, shell) : null,
    attach: onPod && request.subresource === 'attach' ? attachFacts(query) : null,
    port_forward: onPod && request.subresource === 'portforward' ? portForwardFacts(query) : null,
  };
}

function isWrite(request: KubernetesRequestInfo): boolean {
  return request.is_resource_request && WRITE_VERBS.has(request.verb) && !STREAM_SUBRESOURCES.has(request.subresource);
}

function writeFacts(action: KubernetesAction, request: KubernetesRequestInfo): KubernetesWriteFacts {
  // A patch body says what changes, not what will be stored: only the PEP's resolved object does.
  const source = action.object !== undefined ? 'object' : request.verb !== 'patch' && isRecord(action.body) ? 'body' : null;
  const unjudged = (problem: string): KubernetesWriteFacts => ({ source, problem, kind: null, api_version: null, pod_specs: [] });
  if (source === null) return unjudged(`the ${request.verb} carries no object as it will be stored`);
  const stored = source === 'object' ? action.object : action.body;
  if (!isRecord(stored)) return unjudged('the object as it will be stored is not a JSON object');
  try {
    return {
      source,
      problem: null,
      kind: typeof stored.kind === 'string' ? stored.kind : null,
      api_version: typeof stored.apiVersion === 'string' ? stored.apiVersion : null,
      pod_specs: findPodSpecs(stored),
    };
  } catch (error) {
    if (error instanceof ObjectTooLargeError) return unjudged(error.message);
    throw error;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
