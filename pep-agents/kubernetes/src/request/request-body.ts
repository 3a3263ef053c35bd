import type { IncomingMessage } from 'node:http';

export type BodyRead = { readonly body: Buffer } | { readonly tooLarge: true } | { readonly aborted: true };

const NO_BODY: BodyRead = Object.freeze({ body: Buffer.alloc(0) });

/** Reads a request body up to `limit` bytes; past it, stops reading (the connection is then closed). */
export function readRequestBody(request: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = request.headers['content-length'];
  // HTTP/1.1 frames a body by Content-Length or Transfer-Encoding alone: without either (a GET)
  // there is none to wait for, and Node drains the empty stream once the response ends.
  if (request.headers['transfer-encoding'] === undefined && (declared === undefined || declared === '0')) return Promise.resolve(NO_BODY);
  if (declared !== undefined && Number(declared) > limit) return Promise.resolve({ tooLarge: true });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        request.pause();
        resolve({ tooLarge: true });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ body: Buffer.concat(chunks, size) });
    };
    const onAbort = (): void => {
      cleanup();
      resolve({ aborted: true });
    };
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onAbort);
      request.off('aborted', onAbort);
    };
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', onAbort);
    request.once('aborted', onAbort);
  });
}
