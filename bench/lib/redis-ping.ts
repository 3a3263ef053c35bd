import { createConnection, type Socket } from 'node:net';
import { once } from 'node:events';
import { nowMs } from './percentiles.ts';

/**
 * The floor for anything that goes through Redis: PING → +PONG on one open connection, in
 * Redis's own protocol, with no client library in between.
 */
export async function redisPingRoundTrips(port: number, count: number): Promise<number[]> {
  const socket: Socket = createConnection({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  const samples: number[] = [];
  try {
    for (let index = 0; index < count; index += 1) {
      const started = nowMs();
      const answered = once(socket, 'data');
      socket.write('PING\r\n');
      const [data] = (await answered) as [Buffer];
      samples.push(nowMs() - started);
      if (!data.toString().startsWith('+PONG')) throw new Error(`redis answered ${data.toString().trim()} to PING`);
    }
  } finally {
    socket.destroy();
  }
  return samples;
}
