import { encodeCancelRequest } from '../protocol/frontend-messages.ts';
import { openUpstreamSocket, type UpstreamAddress } from '../upstream/upstream-socket.ts';

const CANCEL_TIMEOUT_MS = 5000;

/**
 * Sends a CancelRequest with the upstream server's own key on a new connection, as the protocol
 * wants, over TLS when the sessions use it (the key must not cross the network in the clear).
 * Resolves when the server closes that connection (it answers nothing) or on timeout; never
 * rejects: a cancel is best effort, here as in PostgreSQL.
 */
export async function sendUpstreamCancel(address: UpstreamAddress, key: { processId: number; secretKey: Buffer }): Promise<void> {
  const deadline = Date.now() + CANCEL_TIMEOUT_MS;
  // Unreachable, or TLS refused: nothing is sent, and the statement runs on.
  const socket = await openUpstreamSocket(address, CANCEL_TIMEOUT_MS).catch(() => undefined);
  if (!socket) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, Math.max(deadline - Date.now(), 0));
    socket.once('error', done);
    socket.once('close', done);
    socket.resume();
    socket.write(encodeCancelRequest(key.processId, key.secretKey));
  });
}
