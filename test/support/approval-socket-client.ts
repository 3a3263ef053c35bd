// A test client for the approvals WebSocket (/v1/ws): collects every message and waits for
// the ones a test expects.
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { eventually } from './eventually.ts';

export type SocketMessage = Record<string, unknown> & { type: string };

export interface ApprovalSocket {
  readonly messages: SocketMessage[];
  readonly socket: WebSocket;
  send(message: Record<string, unknown>): void;
  /** The first message (not yet taken) that matches; waits for it. */
  next(match: (message: SocketMessage) => boolean, timeoutMs?: number): Promise<SocketMessage>;
  closed(): Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export async function openApprovalSocket(pdpUrl: string, options: { token?: string; via?: 'header' | 'message'; path?: string } = {}): Promise<ApprovalSocket> {
  const url = `${pdpUrl.replace(/^http/, 'ws')}${options.path ?? '/v1/ws'}`;
  const headers = options.token !== undefined && options.via === 'header' ? { authorization: `Bearer ${options.token}` } : undefined;
  const socket = new WebSocket(url, 'portcullis.v1', headers ? { headers } : {});
  const messages: SocketMessage[] = [];
  const taken = new Set<SocketMessage>();
  let closeInfo: { code: number; reason: string } | undefined;
  socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as SocketMessage));
  socket.on('close', (code, reason) => {
    closeInfo = { code, reason: reason.toString() };
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
  });
  if (options.token !== undefined && options.via !== 'header') socket.send(JSON.stringify({ type: 'auth', token: options.token }));
  const client: ApprovalSocket = {
    messages,
    socket,
    send: (message) => socket.send(JSON.stringify(message)),
    async next(match, timeoutMs = 5000) {
      const started = Date.now();
      for (;;) {
        const found = messages.find((message) => !taken.has(message) && match(message));
        if (found !== undefined) {
          taken.add(found);
          return found;
        }
        if (closeInfo !== undefined) throw new Error(`socket closed (${closeInfo.code} ${closeInfo.reason}) while waiting; got ${JSON.stringify(messages.map((m) => m.type))}`);
        if (Date.now() - started > timeoutMs) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.type))}`);
        await sleep(5);
      }
    },
    async closed() {
      return eventually('the approvals socket closed', () => closeInfo, { intervalMs: 5 });
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await client.closed();
    },
  };
  return client;
}
