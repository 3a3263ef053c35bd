import type { IncomingHttpHeaders } from 'node:http';

/**
 * Client headers that would change who the API server thinks is asking: impersonation
 * (Impersonate-User/-Group/-Uid/-Extra-*), the front-proxy identity headers (X-Remote-User,
 * -Group, -Extra-*), and any the operator names (its cluster's --requestheader-* names). A request
 * carrying one is refused, never forwarded with it stripped: the client meant something else.
 */
export function identityHeaderIn(headers: IncomingHttpHeaders, extraNames: readonly string[]): string | undefined {
  for (const name of Object.keys(headers)) {
    // Node gives header names lower-cased, so every spelling of a name meets the same test.
    if (name.startsWith('impersonate-') || name.startsWith('x-remote-')) return name;
    if (extraNames.some((extra) => (extra.endsWith('*') ? name.startsWith(extra.slice(0, -1)) : name === extra))) return name;
  }
  return undefined;
}

/** The caller's bearer token, or undefined when it sent none (or another scheme). */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (value === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(value);
  return match?.[1];
}
