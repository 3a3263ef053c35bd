import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and are never relayed. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The end-to-end headers of a message, minus hop-by-hop ones and those its Connection header names. */
export function endToEndHeaders(headers: IncomingHttpHeaders, drop: ReadonlySet<string> = new Set()): OutgoingHttpHeaders {
  const named = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((name) => name.trim()).filter(Boolean));
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || drop.has(name)) continue;
    result[name] = value;
  }
  return result;
}

/**
 * What of the client's request headers goes to the API server: end-to-end ones except its
 * credential (the PEP sends its own), the body's length and type (set for the forwarded body),
 * the Host (the API server's own), and what the API server writes into its audit log as fact
 * (Audit-ID, and the source addresses it reads from X-Forwarded-For / X-Real-Ip): a client must not
 * choose the cluster's audit ID of its request nor where the cluster thinks it came from.
 */
const CLIENT_ONLY = new Set(['authorization', 'host', 'content-length', 'content-type', 'cookie', 'expect', 'audit-id', 'x-forwarded-for', 'x-real-ip', 'forwarded']);

export function forwardedRequestHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return endToEndHeaders(headers, CLIENT_ONLY);
}
