// A fault between the gateway and the PDP: an HTTP proxy that passes everything on, except that
// it holds back the PDP's answer to the one decision request whose body names `needle`, until the
// test releases it (a PDP answer arriving late, after the session moved on).
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface HeldDecisionsProxy {
  readonly url: string;
  /** Holds the answer to the next decision request naming `needle`; `held` settles once such a request arrived. */
  holdNext(needle: string): { readonly held: Promise<void>; release(): void };
  close(): Promise<void>;
}

export async function heldDecisionsProxy(target: string): Promise<HeldDecisionsProxy> {
  let hold: { needle: string; arrived: () => void; released: Promise<void> } | undefined;
  const forward = (incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer, before: Promise<void>): void => {
    const forwarded = httpRequest(new URL(incoming.url ?? '/', target), { method: incoming.method, headers: incoming.headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => void before.then(() => outgoing.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(chunks))));
    });
    forwarded.on('error', () => outgoing.destroy());
    forwarded.end(body);
  };
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const current = hold;
      if (current !== undefined && incoming.url === '/v1/decisions' && body.includes(current.needle)) {
        hold = undefined;
        current.arrived();
        return forward(incoming, outgoing, body, current.released);
      }
      forward(incoming, outgoing, body, Promise.resolve());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    holdNext(needle) {
      let arrived!: () => void;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (arrived = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      hold = { needle, arrived, released };
      return { held, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
