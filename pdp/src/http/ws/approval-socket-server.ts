import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ApprovalSocketSession, CLOSE, type SocketSessionOptions } from './approval-socket-session.ts';
import { SUBPROTOCOL } from './approval-socket-protocol.ts';

export const SOCKET_PATH = '/v1/ws';
const MAX_MESSAGE_BYTES = 64 * 1024;
const URL_TOKEN_PARAMETERS = ['token', 'access_token', 'id_token', 'jwt', 'authorization'];

export interface ApprovalSocketServer {
  readonly connections: number;
  close(): void;
}

/** Serves the approvals protocol on `/v1/ws` of the PDP's HTTP server. */
export function attachApprovalSocketServer(server: Server, options: SocketSessionOptions): ApprovalSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    // Clients may name the protocol; a client that names others only is refused.
    handleProtocols: (protocols) => (protocols.size === 0 || protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  const sessions = new Set<ApprovalSocketSession>();
  const perPrincipal = new Map<string, number>();
  const principals = {
    admit(sub: string): boolean {
      const open = perPrincipal.get(sub) ?? 0;
      if (open >= options.maxSocketsPerPrincipal) return false;
      perPrincipal.set(sub, open + 1);
      return true;
    },
    release(sub: string): void {
      const open = (perPrincipal.get(sub) ?? 1) - 1;
      if (open <= 0) perPrincipal.delete(sub);
      else perPrincipal.set(sub, open);
    },
  };

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://pdp.invalid');
    if (url.pathname !== SOCKET_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Refused before the handshake: a flood of sockets costs the PDP no session state.
    if (sessions.size >= options.maxSockets) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      // Tokens in URLs end up in proxy and access logs: refused even when valid.
      if (URL_TOKEN_PARAMETERS.some((name) => url.searchParams.has(name))) {
        ws.close(CLOSE.tokenInUrl, 'send the token in the Authorization header or an auth message, never in the URL');
        return;
      }
      const header = request.headers.authorization;
      const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      const session = new ApprovalSocketSession(ws, { ...options, principals }, match?.[1]);
      sessions.add(session);
      ws.on('close', () => sessions.delete(session));
    });
  });

  return {
    get connections() {
      return sessions.size;
    },
    close() {
      for (const session of sessions) session.shutdown();
      sessions.clear();
      wss.close();
    },
  };
}
