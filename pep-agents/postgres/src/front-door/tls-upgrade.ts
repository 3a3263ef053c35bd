import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { ConnectionClosedError } from '../protocol/message-stream.ts';

/** Runs the server side of a TLS handshake on an accepted socket (after the client's SSLRequest). */
export function upgradeToTls(socket: Socket, secureContext: SecureContext, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // libpq 17+ sends ALPN "postgresql"; older clients send none, which is accepted too.
    const secure = new TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['postgresql'] });
    const timer = setTimeout(() => fail(new Error('TLS handshake timed out')), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      secure.destroy();
      reject(new ConnectionClosedError(`TLS handshake failed (${(error as NodeJS.ErrnoException).code ?? error.message})`));
    };
    secure.once('error', fail);
    secure.once('secure', () => {
      clearTimeout(timer);
      secure.off('error', fail);
      // Errors are always followed by 'close', which the session handles; unheard, they would throw.
      secure.on('error', () => undefined);
      resolve(secure);
    });
  });
}
