import { connect } from 'node:net';
import { encodeCancelRequest } from '../protocol/frontend-messages.ts';

const CANCEL_TIMEOUT_MS = 5000;

/**
 * Sends a CancelRequest with the upstream server's own key on a new connection, as the protocol
 * wants. Resolves when the server closes that connection (it answers nothing) or on timeout;
 * never rejects: a cancel is best effort, here as in PostgreSQL.
 */
export function sendUpstreamCancel(address: { host: string; port: number }, key: { processId: number; secretKey: Buffer }): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: address.host, port: address.port });
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, CANCEL_TIMEOUT_MS);
    socket.once('connect', () => socket.write(encodeCancelRequest(key.processId, key.secretKey)));
    socket.once('error', done);
    socket.once('close', done);
    socket.resume();
  });
}
