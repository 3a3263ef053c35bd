// Writes that wait for the socket to drain, so a fast side is slowed to the pace of a slow one
// instead of filling memory.
import { once } from 'node:events';
import type { Duplex } from 'node:stream';

export function socketWriter(socket: Duplex): (bytes: Buffer) => Promise<void> {
  return async (bytes) => {
    if (bytes.length === 0 || socket.destroyed) return;
    if (!socket.write(bytes)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
  };
}
