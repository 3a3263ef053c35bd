import { PortcullisError } from '../errors/portcullis-error.ts';
import type { NativeHandler, NativeNext, NativeRequest } from './native-http.ts';

/**
 * Reads the raw body (bounded) and parses JSON itself, so malformed JSON, oversized bodies and
 * wrong content types each get their own error code. An empty body parses to undefined.
 */
export function jsonBody(maxBytes: number): NativeHandler {
  return (request, _response, next) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      drainAndFail(request, next, new PortcullisError('payload-too-large', `request body exceeds ${maxBytes} bytes`));
      return;
    }
    const type = request.headers['content-type'];
    if (type !== undefined && !/^application\/([a-z.+-]*\+)?json\b/i.test(type) && !/^text\/plain\b/i.test(type)) {
      drainAndFail(request, next, new PortcullisError('unsupported-media-type', 'request body must be application/json'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    request.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        next(new PortcullisError('payload-too-large', `request body exceeds ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', (error) => {
      if (!failed) {
        failed = true;
        next(error);
      }
    });
    request.on('end', () => {
      if (failed) return;
      // A PEP's request usually arrives in one chunk: decode it without copying it first.
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
      if (text.trim() === '') {
        request.body = undefined;
        next();
        return;
      }
      try {
        request.body = JSON.parse(text) as unknown;
      } catch (error) {
        next(new PortcullisError('malformed-json', `request body is not valid JSON: ${(error as Error).message}`));
        return;
      }
      next();
    });
  };
}

// Read and discard the rest so the keep-alive connection stays usable for the next request.
function drainAndFail(request: NativeRequest, next: NativeNext, error: PortcullisError): void {
  request.resume();
  next(error);
}
