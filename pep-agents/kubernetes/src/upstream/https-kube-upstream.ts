import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Impersonation, KubeUpstream, KubeUpstreamRequest } from './kube-upstream.ts';

/** The PEP's credential towards the API server; each function is read per use, so a rotated file takes effect. */
export type UpstreamCredential =
  | { readonly kind: 'token'; readonly token: () => string }
  | { readonly kind: 'client-certificate'; readonly cert: () => string; readonly key: () => string };

export interface HttpsKubeUpstreamOptions {
  /** https://host:port of the API server (no path). */
  readonly url: URL;
  /** The PEM CA bundle the API server's certificate must chain to. */
  readonly ca: string;
  readonly credential: UpstreamCredential;
  /** TLS server name to check, when it is not the URL's host. */
  readonly serverName?: string;
  readonly connectTimeoutMs: number;
}

/** Headers a caller must never set towards the API server: the PEP's credential and identity are its own. */
const IDENTITY_HEADER = /^(authorization|impersonate-.*)$/i;

/**
 * An agent for one API server and one set of TLS options, so its connections are pooled under one
 * name. Node's own name for a pool spells out every TLS option (the CA and any client key among
 * them, kilobytes), rebuilt and hashed twice per request.
 */
class SingleUpstreamAgent extends Agent {
  override getName(): string {
    return 'upstream';
  }
}

/** KubeUpstream over HTTPS/1.1 with kept-alive connections, the CA checked, the PEP's credential on every request. */
export class HttpsKubeUpstream implements KubeUpstream {
  private agent: { readonly agent: Agent; readonly stamp: string } | undefined;
  private readonly host: string;
  private readonly port: number;

  constructor(private readonly options: HttpsKubeUpstreamOptions) {
    this.host = options.url.hostname.replace(/^\[|\]$/g, '');
    this.port = options.url.port === '' ? 443 : Number(options.url.port);
  }

  request(options: KubeUpstreamRequest): Promise<IncomingMessage> {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(options.headers)) if (value !== undefined && !IDENTITY_HEADER.test(name)) headers[name] = value;
    Object.assign(headers, this.credentialHeaders());
    if (options.impersonate) Object.assign(headers, this.impersonationHeaders(options.impersonate));
    if (options.body !== undefined) headers['content-length'] = String(options.body.length);
    else if (options.method !== 'GET' && options.method !== 'HEAD') headers['content-length'] = '0';
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new Error('the client went away before the request was sent'));
    return new Promise((resolve, reject) => {
      const request = httpsRequest({
        host: this.host,
        port: this.port,
        method: options.method,
        // Sent as it is: Node writes the path verbatim into the request line.
        path: options.target,
        headers,
        agent: this.currentAgent(),
        timeout: this.options.connectTimeoutMs,
      });
      if (signal) {
        // The client going away ends the upstream request (a watch's stream with it). One listener,
        // let go when the request closes: Node's own `signal` option also watches both streams'
        // ends (end-of-stream), which cost ~4% of the PEP's CPU per GET.
        const abort = (): void => void request.destroy(new Error('the client went away'));
        signal.addEventListener('abort', abort, { once: true });
        request.once('close', () => signal.removeEventListener('abort', abort));
      }
      request.once('response', (response) => {
        // The timeout bounds connecting and the wait for the head; a watch may then be quiet for long.
        request.setTimeout(0);
        resolve(response);
      });
      request.once('timeout', () => request.destroy(new Error(`the API server did not answer within ${this.options.connectTimeoutMs} ms`)));
      request.once('error', reject);
      request.end(options.body);
    });
  }

  connect(signal?: AbortSignal): Promise<TLSSocket> {
    const { url, ca, credential, serverName, connectTimeoutMs } = this.options;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host,
        port: url.port === '' ? 443 : Number(url.port),
        ca,
        ALPNProtocols: ['http/1.1'],
        ...(serverName ?? isHostName(host) ? { servername: serverName ?? host } : {}),
        ...(credential.kind === 'client-certificate' ? { cert: credential.cert(), key: credential.key() } : {}),
        ...(signal ? { signal } : {}),
      });
      const timer = setTimeout(() => socket.destroy(new Error(`no TLS connection to the API server within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(socket);
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  credentialHeaders(): Record<string, string> {
    const { credential } = this.options;
    return credential.kind === 'token' ? { authorization: `Bearer ${credential.token()}` } : {};
  }

  impersonationHeaders(impersonate: Impersonation): Record<string, string | string[]> {
    return { 'impersonate-user': impersonate.user, ...(impersonate.groups.length > 0 ? { 'impersonate-group': [...impersonate.groups] } : {}) };
  }

  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
  }

  /** One kept-alive agent per client certificate: a rotated certificate gets fresh connections. */
  private currentAgent(): Agent {
    const { credential, ca, serverName, url } = this.options;
    const cert = credential.kind === 'client-certificate' ? credential.cert() : '';
    const key = credential.kind === 'client-certificate' ? credential.key() : '';
    const stamp = `${cert}\u0000${key}`;
    if (this.agent?.stamp === stamp) return this.agent.agent;
    this.agent?.agent.destroy();
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const agent = new SingleUpstreamAgent({
      keepAlive: true,
      maxSockets: 256,
      ca,
      ALPNProtocols: ['http/1.1'],
      ...(serverName ?? isHostName(host) ? { servername: serverName ?? host } : {}),
      ...(cert ? { cert, key } : {}),
    });
    this.agent = { agent, stamp };
    return agent;
  }
}

/** SNI carries host names only, never IP addresses. */
function isHostName(host: string): boolean {
  return !/^[\d.]+$/.test(host) && !host.includes(':');
}
