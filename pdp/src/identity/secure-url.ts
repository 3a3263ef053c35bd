/**
 * Key material fetched over plain HTTP can be swapped by anyone on the path, so remote key and
 * discovery URLs must be HTTPS. Loopback is exempt (a local IdP, tests); anything else needs an
 * explicit opt-in.
 */
export function requireSecureUrl(url: URL | string, what: string, allowInsecureHttp = false): URL {
  const parsed = new URL(url);
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && (allowInsecureHttp || isLoopbackHost(parsed.hostname))) return parsed;
  throw new TypeError(`${what} must use https (got ${parsed.protocol}//${parsed.host})`);
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}
