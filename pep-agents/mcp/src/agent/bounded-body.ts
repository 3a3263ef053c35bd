import type { IncomingMessage } from 'node:http';

/**
 * A request body up to `maxBytes`, or undefined once it is larger (what was sent beyond is not
 * read). Read with the stream's own events rather than its async iterator: one callback per chunk
 * instead of a promise per chunk, on every message an agent posts.
 */
export function readBoundedBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      finish();
      // Nothing more is read; the stream is let go as the async iterator's early return did.
      request.destroy();
      resolve(undefined);
    };
    const onEnd = (): void => {
      finish();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const onError = (error: Error): void => {
      finish();
      reject(error);
    };
    const finish = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}
