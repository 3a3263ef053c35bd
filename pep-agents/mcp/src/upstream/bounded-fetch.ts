import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * The most one server message may take (bytes): the same bound the SDK's stdio client keeps on
 * its read buffer, so a server reached over HTTP is held to what one over stdio is.
 */
export const MAX_SERVER_MESSAGE_BYTES = 10 * 1024 * 1024;

/**
 * A fetch whose response bodies are read within a bound: a JSON body at most `maxBytes`, an
 * event stream at most `maxBytes` between two events (a long-lived stream of small events is
 * fine). Past it the body fails and `onOversize` is told, so the connection is ended rather than
 * a server's answer read whole into memory however large it is.
 */
export function boundedFetch(maxBytes: number, onOversize: () => void, base: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    if (response.body === null) return response;
    const eventStream = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    const bounded = response.body.pipeThrough(byteBound(maxBytes, eventStream, onOversize));
    return new Response(bounded, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

function byteBound(maxBytes: number, eventStream: boolean, onOversize: () => void): TransformStream<Uint8Array, Uint8Array> {
  // Bytes since the last event boundary (a blank line: two line feeds, with or without carriage returns).
  let pending = 0;
  let lastTwo = '';
  return new TransformStream({
    transform(chunk, controller) {
      if (!eventStream) {
        pending += chunk.byteLength;
      } else {
        for (const byte of chunk) {
          if (byte === 0x0d) continue;
          const char = byte === 0x0a ? '\n' : 'x';
          lastTwo = (lastTwo + char).slice(-2);
          pending = lastTwo === '\n\n' ? 0 : pending + 1;
        }
      }
      if (pending > maxBytes) {
        onOversize();
        controller.error(new Error(`the server sent a message larger than ${maxBytes} bytes`));
        return;
      }
      controller.enqueue(chunk);
    },
  });
}
