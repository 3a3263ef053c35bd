import type { AddressInfo, Server } from 'node:net';

/** Starts `server` listening; resolves with the address it got (port 0 picks a free one), rejects when the bind fails. */
export function listenOn(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
