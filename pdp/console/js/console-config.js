// What the PDP tells the page about itself: the socket path and how people sign in here.

/** {protocol, socket_path, dev_issuer, oidc: {issuer, client_id, scopes} | null} */
export async function loadConsoleConfig() {
  const response = await fetch('/console/config.json', { credentials: 'omit', cache: 'no-store' });
  if (!response.ok) throw new Error(`the console configuration did not load (HTTP ${response.status})`);
  return response.json();
}

export function socketUrl(config) {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}${config.socket_path ?? '/v1/ws'}`;
}
