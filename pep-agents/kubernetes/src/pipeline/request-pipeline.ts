import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CommandOutcome, DecisionAnswer, LogFunction } from '@portcullis/pep-core';
import type { KubeCommand } from '../decisions/kube-command.ts';
import { DiscoveryCache } from '../discovery/discovery-cache.ts';
import { isDiscoveryPath } from '../discovery/discovery-paths.ts';
import { requestTarget, type KubeRequest } from '../request/kube-request.ts';
import type { KubeSession } from '../server/kube-session.ts';
import { kubeStatus, writeStatus, type KubeStatus } from '../status/kube-status.ts';
import type { Impersonation, KubeUpstream } from '../upstream/kube-upstream.ts';
import { DecidedObjectRead } from './decided-object-read.ts';
import { maskedValueMove } from './masked-value-moves.ts';
import { impersonationFor, type ImpersonationSettings } from './impersonation-policy.ts';
import { parseJsonBody } from './json-request-body.ts';
import type { KubeMask } from './kube-masks.ts';
import { endToEndHeaders, forwardedRequestHeaders } from './relayed-headers.ts';
import type { ResponseRelay } from './response-relay.ts';
import type { WriteResolver } from './write-resolution.ts';

export interface RequestPipelineDeps {
  readonly upstream: KubeUpstream;
  /** The writes seam: what a create, update or patch will store. */
  readonly resolveWrite: WriteResolver;
  /** The responses seam: how an allowed answer comes back (masked). */
  readonly relay: ResponseRelay;
  readonly discovery: DiscoveryCache;
  readonly impersonation: ImpersonationSettings;
  readonly maxBodyBytes: number;
  readonly log: LogFunction;
}

/** A request ready to decide: what policy sees, and the body forwarded if it allows. */
interface PreparedRequest {
  readonly command: KubeCommand;
  readonly forwardBody?: Buffer;
  readonly contentType?: string;
}

/** The largest object a write resolution reads (etcd stores up to 1.5 MiB; its JSON is larger). */
const MAX_READ_OBJECT_BYTES = 4 * 1024 * 1024;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const CONDITIONAL_HEADERS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'range'] as const;

/**
 * One HTTP request, the story of the PEP: resolve what it will do (writes) → decide it (the
 * session's gate: PDP, approval hold, record) → forward exactly that to the API server as the
 * principal → relay the answer (masked). Every refusal is a Kubernetes `Status`.
 */
export class RequestPipeline {
  constructor(private readonly deps: RequestPipelineDeps) {}

  async handle(request: KubeRequest, response: ServerResponse, session: KubeSession): Promise<void> {
    const aborter = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) aborter.abort();
    });
    const prepared = await this.prepare(request, session, aborter.signal);
    if ('refusal' in prepared) {
      writeStatus(response, prepared.refusal);
      return;
    }
    try {
      const run = await session.gate.run(prepared.command, (answer) => this.forward(prepared, answer, response, aborter.signal), {});
      if (!run.ran) writeStatus(response, run.refusal);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.log(`request to the API server failed: ${message}`, { session: session.id, method: request.method, path: request.path });
      if (!response.headersSent) writeStatus(response, kubeStatus(503, 'portcullis: the API server could not be reached'));
      else response.destroy();
    }
  }

  private async prepare(request: KubeRequest, session: KubeSession, signal: AbortSignal): Promise<PreparedRequest | { readonly refusal: KubeStatus }> {
    if (request.body.length === 0) return { command: { request } };
    if (WRITE_METHODS.has(request.method)) {
      // The object a patch lands on is read as the principal would read it, decided and masked: the
      // resolution must not tell the client (or policy's messages) what the principal may not see.
      const reads = new DecidedObjectRead({ ...this.deps, session, maxObjectBytes: Math.max(this.deps.maxBodyBytes, MAX_READ_OBJECT_BYTES) });
      const resolved = await this.deps.resolveWrite(request, reads, { bodyLimit: this.deps.maxBodyBytes, signal });
      if ('refusal' in resolved) return resolved;
      const move = maskedValueMove(resolved.body, reads.masked);
      if (move !== undefined) return { refusal: move };
      return { command: { request, body: resolved.body, object: resolved.object }, forwardBody: resolved.forwardBody, contentType: resolved.contentType };
    }
    // DELETE carries DeleteOptions; whatever else has a body, policy sees it as it is forwarded.
    const parsed = parseJsonBody(request.body, request.headers['content-type']);
    if ('refusal' in parsed) return parsed;
    return { command: { request, body: parsed.value }, forwardBody: parsed.forwardBody, contentType: 'application/json' };
  }

  private async forward(prepared: PreparedRequest, answer: DecisionAnswer<KubeMask>, response: ServerResponse, signal: AbortSignal): Promise<CommandOutcome> {
    const { request } = prepared.command;
    const impersonate = impersonationFor(this.deps.impersonation, answer);
    if (impersonate === null) {
      const bytes = writeStatus(response, kubeStatus(403, `portcullis: the decision names no principal to impersonate [decision ${answer.decision_id}]`));
      return { status: 'failure', error: 'no principal to impersonate', bytes };
    }
    const masks = answer.obligations.mask;
    const headers = this.deps.relay.upstreamHeaders(
      { ...forwardedRequestHeaders(request.headers), ...(prepared.contentType ? { 'content-type': prepared.contentType } : {}) },
      masks,
      request,
    );
    const target = requestTarget(request);
    const cacheable = this.deps.discovery.enabled && request.method === 'GET' && masks.length === 0 && isDiscoveryPath(request.path) && CONDITIONAL_HEADERS.every((name) => request.headers[name] === undefined);
    if (cacheable) return this.forwardDiscovery(target, headers, impersonate, response, signal);

    const upstream = await this.deps.upstream.request({
      method: request.method,
      target,
      headers,
      ...(prepared.forwardBody ? { body: prepared.forwardBody } : {}),
      ...(impersonate ? { impersonate } : {}),
      signal,
    });
    const relayed = await this.deps.relay.relay(upstream, response, { request, masks, signal });
    return outcomeOf(relayed.status, relayed.bytes, relayed.masked, relayed.error);
  }

  /** Discovery and OpenAPI: from the cache when it holds the answer, else from the API server, kept for the next one. */
  private async forwardDiscovery(target: string, headers: OutgoingHttpHeaders, impersonate: Impersonation | undefined, response: ServerResponse, signal: AbortSignal): Promise<CommandOutcome> {
    const key = DiscoveryCache.key(target, headerText(headers.accept), headerText(headers['accept-encoding']));
    let answer = this.deps.discovery.get(key);
    if (answer === undefined) {
      const upstream = await this.deps.upstream.request({ method: 'GET', target, headers, ...(impersonate ? { impersonate } : {}), signal });
      const chunks: Buffer[] = [];
      for await (const chunk of upstream) chunks.push(chunk as Buffer);
      const { 'content-length': _length, ...rest } = endToEndHeaders(upstream.headers);
      answer = { status: upstream.statusCode ?? 502, headers: rest, body: Buffer.concat(chunks) };
      this.deps.discovery.put(key, answer);
    }
    response.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
    response.end(answer.body);
    return outcomeOf(answer.status, answer.body.length, 0);
  }
}

function outcomeOf(status: number, bytes: number, masked: number, error?: string): CommandOutcome {
  if (error !== undefined) return { status: 'failure', error, bytes, masked };
  return status < 400 ? { status: 'success', bytes, masked } : { status: 'failure', error: `HTTP ${status}`, bytes, masked };
}

function headerText(value: OutgoingHttpHeaders[string]): string | undefined {
  return value === undefined ? undefined : Array.isArray(value) ? value.join(', ') : String(value);
}
