// The upgrade request as the API server receives it: the decided method, path and query byte for
// byte, the upgrade's own headers (the key, the version, only the subprotocols the PEP reads, no
// extension offer), the PEP's credential and impersonation, and nothing else of the client's.
// Its answer is either 101 with a subprotocol the PEP offered, or a plain response relayed back.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { requestTarget, type KubeRequest } from '../request/kube-request.ts';
import type { Impersonation, KubeUpstream } from '../upstream/kube-upstream.ts';
import type { UpgradePlan } from './upgrade-plan.ts';

export type UpstreamAnswer =
  | { readonly kind: 'upgraded'; readonly response: IncomingMessage; readonly socket: Duplex; readonly head: Buffer; readonly protocol: string }
  | { readonly kind: 'response'; readonly response: IncomingMessage };

export class UpstreamUpgradeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamUpgradeError';
  }
}

export function upstreamUpgradeHeaders(request: KubeRequest, plan: UpgradePlan, credential: Record<string, string>, impersonation: Record<string, string | string[]>): OutgoingHttpHeaders {
  const client = request.headers;
  const headers: OutgoingHttpHeaders = { connection: 'Upgrade' };
  if (plan.transport === 'websocket') {
    headers.upgrade = 'websocket';
    headers['sec-websocket-key'] = single(client['sec-websocket-key']);
    headers['sec-websocket-version'] = single(client['sec-websocket-version']);
    headers['sec-websocket-protocol'] = plan.offered.join(', ');
  } else {
    headers.upgrade = 'SPDY/3.1';
    headers['x-stream-protocol-version'] = [...plan.offered];
  }
  if (request.method !== 'GET') headers['content-length'] = '0';
  const agent = single(client['user-agent']);
  if (agent) headers['user-agent'] = agent;
  return { ...headers, ...credential, ...impersonation };
}

/** Sends the upgrade over a fresh TLS connection to the API server and reads its answer. */
export async function openUpstreamUpgrade(
  upstream: KubeUpstream,
  request: KubeRequest,
  plan: UpgradePlan,
  impersonate: Impersonation | undefined,
  signal?: AbortSignal,
): Promise<UpstreamAnswer> {
  const socket: TLSSocket = await upstream.connect(signal);
  const headers = upstreamUpgradeHeaders(request, plan, upstream.credentialHeaders(), impersonate ? upstream.impersonationHeaders(impersonate) : {});
  const host = socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]:${socket.remotePort}` : `${socket.remoteAddress}:${socket.remotePort}`;
  return new Promise<UpstreamAnswer>((resolve, reject) => {
    const outgoing = httpRequest({
      createConnection: () => socket,
      method: request.method,
      // Written into the request line as it is: the bytes the PDP decided.
      path: requestTarget(request),
      headers: { host, ...headers },
      setHost: false,
    });
    outgoing.once('upgrade', (response: IncomingMessage, upgraded: Duplex, head: Buffer) => {
      const protocol = chosenProtocol(response.headers, plan);
      if (protocol === undefined) {
        upgraded.destroy();
        reject(new UpstreamUpgradeError('the API server switched to a protocol the PEP did not offer'));
        return;
      }
      resolve({ kind: 'upgraded', response, socket: upgraded, head, protocol });
    });
    outgoing.once('response', (response: IncomingMessage) => resolve({ kind: 'response', response }));
    outgoing.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
    outgoing.end();
  });
}

/** The subprotocol the API server chose, when it is one the PEP offered (and the upgrade is the one asked for, with no extension). */
function chosenProtocol(headers: IncomingHttpHeaders, plan: UpgradePlan): string | undefined {
  const upgrade = single(headers.upgrade)?.toLowerCase();
  if (plan.transport === 'websocket') {
    if (upgrade !== 'websocket' || headers['sec-websocket-extensions'] !== undefined) return undefined;
    const protocol = single(headers['sec-websocket-protocol']);
    return protocol !== undefined && plan.offered.includes(protocol) ? protocol : undefined;
  }
  if (upgrade !== 'spdy/3.1') return undefined;
  const protocol = single(headers['x-stream-protocol-version']);
  return protocol !== undefined && plan.offered.includes(protocol) ? protocol : undefined;
}

/** The 101 the client is sent: the API server's answer to the upgrade, its own headers only. */
export function switchingProtocolsHead(response: IncomingMessage, plan: UpgradePlan, protocol: string): Buffer {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade'];
  if (plan.transport === 'websocket') {
    lines.push('Upgrade: websocket', `Sec-WebSocket-Accept: ${single(response.headers['sec-websocket-accept']) ?? ''}`, `Sec-WebSocket-Protocol: ${protocol}`);
  } else {
    lines.push('Upgrade: SPDY/3.1', `X-Stream-Protocol-Version: ${protocol}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}
