import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** Who the API server is asked to treat a request as (Impersonate-User, Impersonate-Group). */
export interface Impersonation {
  readonly user: string;
  readonly groups: readonly string[];
}

export interface KubeUpstreamRequest {
  readonly method: string;
  /** Path + '?' + query, byte for byte as decided (no normalisation, no re-encoding). */
  readonly target: string;
  /** The headers to send; the PEP's own credential and the impersonation headers are added here, any the caller gives for them are replaced. */
  readonly headers: OutgoingHttpHeaders;
  readonly body?: Buffer;
  readonly impersonate?: Impersonation;
  /** Ends the request early (the client went away). */
  readonly signal?: AbortSignal;
}

/**
 * The API server behind the PEP, reached with the PEP's own credential over TLS checked against
 * the configured CA. Every part of the PEP that talks to the API server goes through this: the
 * forwarding of decided requests, a write resolver's read of the current object, upgrades.
 */
export interface KubeUpstream {
  /** One request; resolves with the response once its head arrived (the body is still to be read). */
  request(options: KubeUpstreamRequest): Promise<IncomingMessage>;
  /**
   * A TLS connection to the API server with its CA checked and ALPN http/1.1, for relaying an
   * HTTP upgrade (exec, attach, port-forward): the caller writes the request head, which must
   * carry `credentialHeaders()` (and the impersonation ones).
   */
  connect(signal?: AbortSignal): Promise<TLSSocket>;
  /** The headers that carry the PEP's credential (Authorization for a token; none for a client certificate, which `connect` presents). */
  credentialHeaders(): Record<string, string>;
  /** The impersonation headers for `impersonate` (Impersonate-User, one Impersonate-Group per group). */
  impersonationHeaders(impersonate: Impersonation): Record<string, string | string[]>;
  /** Lets go of kept-alive connections. */
  close(): void;
}
