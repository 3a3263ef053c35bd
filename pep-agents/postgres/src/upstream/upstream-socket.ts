import { connect, type Socket } from 'node:net';
import { UpstreamConnectError } from './upstream-connect-error.ts';
import { startUpstreamTls } from './upstream-tls-negotiation.ts';
import type { UpstreamTls } from './upstream-tls.ts';

/** Where the real server is and how to protect the link: all a new connection to it needs. */
export interface UpstreamAddress {
  readonly host: string;
  readonly port: number;
  readonly tls: UpstreamTls;
}

/**
 * A connection to the server, TLS already negotiated when the settings ask for it, ready for a
 * start-up packet (or a CancelRequest). Fails with an UpstreamConnectError.
 */
export async function openUpstreamSocket(address: UpstreamAddress, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  const socket = await openTcp(address, timeoutMs);
  if (!address.tls.enabled) return socket;
  try {
    return await startUpstreamTls(socket, address.tls, address.host, deadline - Date.now());
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

function openTcp(address: UpstreamAddress, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port, noDelay: true });
    const timer = setTimeout(() => fail(new Error('connect timed out')), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      const code = (error as NodeJS.ErrnoException).code ?? error.message;
      reject(new UpstreamConnectError('the PEP cannot reach the database', `connect to ${address.host}:${address.port}: ${code}`));
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      // Errors are always followed by 'close', which the session handles; unheard, they would throw.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}
