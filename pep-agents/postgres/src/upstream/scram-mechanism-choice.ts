import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { SCRAM_SHA_256, SCRAM_SHA_256_PLUS, type ScramChannelBinding } from './scram-sha-256-client.ts';
import { tlsServerEndPoint } from './tls-server-end-point.ts';

export interface ScramMechanismChoice {
  readonly mechanism: typeof SCRAM_SHA_256 | typeof SCRAM_SHA_256_PLUS;
  readonly channelBinding: ScramChannelBinding;
}

/**
 * Picks the SASL mechanism from the server's offer: over TLS, SCRAM-SHA-256-PLUS bound to the
 * server's certificate whenever the server offers it (libpq's channel_binding=prefer), else
 * SCRAM-SHA-256. Undefined when the offer has neither.
 */
export function chooseScramMechanism(offered: readonly string[], socket: Socket): ScramMechanismChoice | undefined {
  if (socket instanceof TLSSocket) {
    if (offered.includes(SCRAM_SHA_256_PLUS)) {
      const data = tlsServerEndPoint(socket);
      if (data) return { mechanism: SCRAM_SHA_256_PLUS, channelBinding: { flag: 'p', data } };
      // A certificate whose algorithm defines no hash (Ed25519 …) cannot be bound to; 'n' tells
      // the server so honestly ('y' would read as a stripped offer).
      return offered.includes(SCRAM_SHA_256) ? { mechanism: SCRAM_SHA_256, channelBinding: { flag: 'n' } } : undefined;
    }
    return offered.includes(SCRAM_SHA_256) ? { mechanism: SCRAM_SHA_256, channelBinding: { flag: 'y' } } : undefined;
  }
  return offered.includes(SCRAM_SHA_256) ? { mechanism: SCRAM_SHA_256, channelBinding: { flag: 'n' } } : undefined;
}
