import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// RFC 9110 §7.6.1: these describe one connection, not the message, and are never relayed.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

/**
 * The API server's response headers as the client is sent them: without hop-by-hop headers (and
 * those `Connection` names), and without `omit` (the length and encoding of a body the relay
 * rewrote).
 */
export function relayedHeaders(headers: IncomingHttpHeaders, omit: readonly string[] = []): OutgoingHttpHeaders {
  const dropped = new Set([...HOP_BY_HOP, ...omit]);
  for (const name of String(headers.connection ?? '').split(',')) dropped.add(name.trim().toLowerCase());
  const relayed: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !dropped.has(name)) relayed[name] = value;
  }
  return relayed;
}
