// What an upgrade request asks for, read before anything is decided: which subresource (exec,
// attach, port-forward), which protocol (WebSocket or SPDY/3.1) and which of the offered
// subprotocols the PEP can read (the others are not offered to the API server, so it can only
// choose one the PEP records and checks), whether it asks for a terminal, and the ports a
// port-forward names. Anything else that asks for an upgrade is refused: the PEP relays no
// stream it cannot read.
import type { KubeRequest } from '../request/kube-request.ts';
import { channelProtocol } from './channel-protocol.ts';
import { queryPorts } from './port-forward-ports.ts';
import { SPDY_TUNNEL_PROTOCOL } from './websocket-spdy-tunnel.ts';

export type UpgradeSubresource = 'exec' | 'attach' | 'portforward';

export interface UpgradePlan {
  readonly subresource: UpgradeSubresource;
  readonly transport: 'websocket' | 'spdy';
  /** The subprotocols offered to the API server, in the client's order: only those the PEP reads. */
  readonly offered: readonly string[];
  /** Exec or attach with a terminal: recorded as asciicast. */
  readonly tty: boolean;
  /** The ports the query names (port-forward); undefined when it names none (each stream's port is then decided). */
  readonly ports?: readonly number[];
}

export interface UpgradeRefusal {
  readonly code: 400;
  readonly message: string;
}

const SUBRESOURCE_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/(exec|attach|portforward)$/;
const PORT_FORWARD_SPDY = 'portforward.k8s.io';
/** 16 random bytes in base64 (RFC 6455 4.1). */
const WEBSOCKET_KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Whether the client asked for a protocol upgrade at all (the PEP then never answers as for a plain request). */
export function isUpgradeRequest(request: Pick<KubeRequest, 'headers'>): boolean {
  const connection = headerText(request.headers.connection);
  return request.headers.upgrade !== undefined || /(^|,)\s*upgrade\s*(,|$)/i.test(connection);
}

export function planUpgrade(request: KubeRequest): UpgradePlan | UpgradeRefusal {
  const match = SUBRESOURCE_PATH.exec(request.path);
  if (!match) return refusal('only exec, attach and portforward of a pod may be upgraded through this proxy');
  const subresource = match[1] as UpgradeSubresource;
  const upgrade = headerText(request.headers.upgrade).trim().toLowerCase();
  if (!/(^|,)\s*upgrade\s*(,|$)/i.test(headerText(request.headers.connection))) return refusal('an upgrade must say Connection: Upgrade');

  let ports: readonly number[] | undefined;
  if (subresource === 'portforward') {
    try {
      ports = queryPorts(request.rawQuery);
    } catch (error) {
      return refusal((error as Error).message);
    }
  }
  const tty = subresource !== 'portforward' && truthyQuery(request.rawQuery, 'tty');

  if (upgrade === 'websocket') {
    if (request.method !== 'GET') return refusal('a WebSocket upgrade must be a GET');
    const key = request.headers['sec-websocket-key'];
    if (typeof key !== 'string' || !WEBSOCKET_KEY.test(key.trim()) || request.headers['sec-websocket-version'] !== '13') {
      return refusal('a WebSocket upgrade needs a Sec-WebSocket-Key and Sec-WebSocket-Version 13');
    }
    const offered = listValues(request.headers['sec-websocket-protocol']).filter((name) => {
      if (subresource !== 'portforward') return channelProtocol(name) !== undefined;
      // The channel form carries only the ports of the query: offered when the query names some.
      return name === SPDY_TUNNEL_PROTOCOL || (ports !== undefined && channelProtocol(name) !== undefined);
    });
    if (offered.length === 0) return refusal(`none of the offered WebSocket subprotocols can be relayed for ${subresource}`);
    return { subresource, transport: 'websocket', offered, tty, ...(ports ? { ports } : {}) };
  }
  if (upgrade === 'spdy/3.1') {
    if (request.method !== 'POST' && request.method !== 'GET') return refusal('a SPDY upgrade must be a POST or a GET');
    const offered = listValues(request.headers['x-stream-protocol-version']).filter((name) =>
      subresource === 'portforward' ? name === PORT_FORWARD_SPDY : channelProtocol(name)?.encoding === 'binary',
    );
    if (offered.length === 0) return refusal(`none of the offered stream protocol versions can be relayed for ${subresource}`);
    return { subresource, transport: 'spdy', offered, tty, ...(ports ? { ports } : {}) };
  }
  return refusal('only WebSocket and SPDY/3.1 upgrades are relayed');
}

export function isUpgradeRefusal(plan: UpgradePlan | UpgradeRefusal): plan is UpgradeRefusal {
  return 'code' in plan;
}

/** Any value of the query parameter is true (Kubernetes reads all but "0" and "false" as true): a terminal is recorded whenever one may exist. */
function truthyQuery(rawQuery: string, name: string): boolean {
  return new URLSearchParams(rawQuery).getAll(name).some((value) => value !== '0' && value.toLowerCase() !== 'false');
}

function listValues(header: string | string[] | undefined): string[] {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
}

function headerText(header: string | string[] | undefined): string {
  return Array.isArray(header) ? header.join(',') : (header ?? '');
}

function refusal(message: string): UpgradeRefusal {
  return { code: 400, message };
}
