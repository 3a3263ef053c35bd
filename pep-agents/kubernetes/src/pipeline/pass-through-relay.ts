import type { IncomingMessage, ServerResponse } from 'node:http';
import { endToEndHeaders } from './relayed-headers.ts';
import type { RelayOutcome, ResponsePlan, ResponseRelay } from './response-relay.ts';

/**
 * Relays an answer untouched and as it arrives (a watch or `logs -f` streams). It masks nothing,
 * so it takes only decisions without mask obligations: any other is refused before forwarding.
 */
export class PassThroughRelay implements ResponseRelay {
  canMask(masks: readonly unknown[]): boolean {
    return masks.length === 0;
  }

  upstreamHeaders<H>(headers: H): H {
    return headers;
  }

  relay(upstream: IncomingMessage, client: ServerResponse, plan: ResponsePlan): Promise<RelayOutcome> {
    return relayUntouched(upstream, client, plan.signal);
  }
}

/** Status, end-to-end headers and body as they come; resolves when the body ended or either side went away. */
export function relayUntouched(upstream: IncomingMessage, client: ServerResponse, signal: AbortSignal): Promise<RelayOutcome> {
  const status = upstream.statusCode ?? 502;
  client.writeHead(status, upstream.statusMessage, endToEndHeaders(upstream.headers));
  // Headers go out now: a watch may send its first event much later.
  client.flushHeaders();
  let bytes = 0;
  return new Promise((resolve, reject) => {
    const finish = (error?: Error): void => {
      upstream.off('data', onData);
      signal.removeEventListener('abort', onAbort);
      if (error) {
        upstream.destroy();
        client.destroy();
        reject(error);
      } else resolve({ status, bytes, masked: 0 });
    };
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    };
    const onAbort = (): void => finish(new Error('the client went away before the answer was relayed in full'));
    upstream.on('data', onData);
    upstream.once('end', () => client.end(() => finish()));
    upstream.once('error', (error) => finish(new Error(`the API server's answer broke off: ${error.message}`)));
    upstream.once('aborted', () => finish(new Error("the API server's answer broke off")));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
