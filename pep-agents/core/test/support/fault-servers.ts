// Faults a real PDP cannot be made to produce: a peer that never answers, one that answers
// nonsense. Everything else in these suites talks to a real PDP.
import { createServer, type Server, type Socket } from 'node:net';

export interface FaultServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Accepts connections and reads requests, and never answers. */
export function silentServer(): Promise<FaultServer> {
  return listen(() => {});
}

/** Answers every request with these exact bytes, then closes. */
export function scriptedServer(reply: string | Buffer): Promise<FaultServer> {
  return listen((socket) => {
    socket.once('data', () => socket.end(reply));
  });
}

/** A port on which nothing listens (it was free a moment ago). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listen(onConnection: (socket: Socket) => void): Promise<FaultServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
