import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { CommandOutcome } from '@portcullis/pep-core';
import type { KubeSession } from '../server/kube-session.ts';
import { kubeStatus, statusBody } from '../status/kube-status.ts';
import type { Impersonation, KubeUpstream, KubeUpstreamRequest } from '../upstream/kube-upstream.ts';
import { impersonationFor, type ImpersonationSettings } from './impersonation-policy.ts';
import { maskedPointers } from './masked-value-moves.ts';
import type { ResponseRelay } from './response-relay.ts';
import { readBoundedBody } from '../upstream/bounded-body.ts';

export interface DecidedObjectReadDeps {
  readonly upstream: KubeUpstream;
  readonly relay: ResponseRelay;
  readonly impersonation: ImpersonationSettings;
  readonly session: KubeSession;
  /** The largest object read, in bytes (past it the read answers 502). */
  readonly maxObjectBytes: number;
}

/**
 * The upstream a write resolver reads the current object through (a patch or an apply lands on
 * it). The read happens before the write is decided, so it must not see more than the principal
 * may: it is decided as the principal's own GET of that path (and recorded), sent as the principal
 * (impersonated), and the object is masked as policy masks it for them. Whatever the resolution
 * then tells — a refusal naming a path, a policy message quoting a field, a `test` op that failed —
 * comes from what the principal could read anyway, never from the PEP's own view of the cluster.
 */
export class DecidedObjectRead implements KubeUpstream {
  /** Where the masks hid values in the objects read (JSON pointers). */
  readonly masked: string[] = [];

  constructor(private readonly deps: DecidedObjectReadDeps) {}

  async request(options: KubeUpstreamRequest): Promise<IncomingMessage> {
    if (options.method !== 'GET' || options.body !== undefined) return answer(403, statusBody(kubeStatus(403, 'portcullis: a write resolution may only read')));
    const questionMark = options.target.indexOf('?');
    const path = questionMark === -1 ? options.target : options.target.slice(0, questionMark);
    const rawQuery = questionMark === -1 ? '' : options.target.slice(questionMark + 1);
    const read = { request: { method: 'GET', path, rawQuery, headers: { accept: 'application/json' }, body: Buffer.alloc(0) } };
    let result: { status: number; body: Buffer } | undefined;
    const run = await this.deps.session.gate.run(read, async (decision): Promise<CommandOutcome> => {
      const impersonate = impersonationFor(this.deps.impersonation, decision);
      if (impersonate === null) {
        result = { status: 403, body: statusBody(kubeStatus(403, 'portcullis: the decision names no principal to impersonate')) };
        return { status: 'failure', error: 'no principal to impersonate' };
      }
      result = await this.fetch(options, impersonate, decision.obligations.mask);
      return result.status < 400 ? { status: 'success', bytes: result.body.length } : { status: 'failure', error: `HTTP ${result.status}`, bytes: result.body.length };
    });
    if (!run.ran) return answer(run.refusal.code, statusBody(run.refusal));
    return answer(result?.status ?? 502, result?.body ?? Buffer.alloc(0));
  }

  connect(): Promise<TLSSocket> {
    return Promise.reject(new Error('a write resolution does not open connections'));
  }

  credentialHeaders(): Record<string, string> {
    return {};
  }

  impersonationHeaders(): Record<string, string | string[]> {
    return {};
  }

  close(): void {}

  private async fetch(options: KubeUpstreamRequest, impersonate: Impersonation | undefined, masks: Parameters<ResponseRelay['relay']>[2]['masks']): Promise<{ status: number; body: Buffer }> {
    const headers: OutgoingHttpHeaders = { accept: 'application/json', 'accept-encoding': 'identity' };
    const response = await this.deps.upstream.request({ ...options, headers, ...(impersonate ? { impersonate } : {}) });
    const status = response.statusCode ?? 502;
    const body = await readBoundedBody(response, this.deps.maxObjectBytes);
    if (body === undefined || String(response.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity') return { status: 502, body: Buffer.alloc(0) };
    if (masks.length === 0 || status !== 200) return { status, body };
    let document: unknown;
    try {
      document = JSON.parse(body.toString('utf8'));
    } catch {
      return { status: 502, body: Buffer.alloc(0) };
    }
    // Masks this PEP cannot apply to an object leave nothing to resolve against.
    const masked = this.deps.relay.maskDocument?.(document, masks);
    if (masked === undefined) return { status: 403, body: statusBody(kubeStatus(403, 'portcullis: this object is shown to you masked in a way the write resolution cannot apply')) };
    this.masked.push(...maskedPointers(document, masked.document));
    return { status, body: Buffer.from(JSON.stringify(masked.document), 'utf8') };
  }
}

/** A finished answer as the resolver reads one from the API server. */
function answer(status: number, body: Buffer): IncomingMessage {
  const message = Readable.from([body]) as unknown as IncomingMessage & { statusCode: number; headers: Record<string, string> };
  message.statusCode = status;
  message.headers = { 'content-type': 'application/json' };
  return message;
}
