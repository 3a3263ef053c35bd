import type { IncomingMessage } from 'node:http';

/**
 * The whole of a body the PEP reads for itself (an object behind a patch, an OpenAPI document),
 * or undefined past `maxBytes` (the response is then destroyed) or on a broken stream. `body` is
 * what to read: the response itself, or a decoder piped from it.
 */
export async function readBoundedBody(response: IncomingMessage, maxBytes: number, body: AsyncIterable<unknown> = response): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        response.destroy();
        return undefined;
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    return undefined;
  }
  return Buffer.concat(chunks, size);
}
