import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate } from 'node:zlib';
import type { KubeUpstream } from '../upstream/kube-upstream.ts';
import { readBoundedBody } from '../upstream/bounded-body.ts';

/** One GET through the upstream, read whole as JSON within `maxBytes`. */
export type UpstreamJson = { status: number; json: unknown } | { unreachable: true } | { unreadable: true };

export async function getUpstreamJson(upstream: KubeUpstream, target: string, maxBytes: number, signal?: AbortSignal): Promise<UpstreamJson> {
  let response: IncomingMessage;
  try {
    response = await upstream.request({ method: 'GET', target, headers: { accept: 'application/json', 'accept-encoding': 'identity' }, ...(signal ? { signal } : {}) });
  } catch {
    return { unreachable: true };
  }
  const text = await readBody(response, maxBytes);
  if (text === undefined) return { unreadable: true };
  try {
    return { status: response.statusCode ?? 0, json: JSON.parse(text) };
  } catch {
    return { status: response.statusCode ?? 0, json: undefined };
  }
}

async function readBody(response: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const encoding = String(response.headers['content-encoding'] ?? 'identity').toLowerCase();
  const stream = encoding === 'gzip' ? response.pipe(createGunzip()) : encoding === 'deflate' ? response.pipe(createInflate()) : encoding === 'identity' ? response : undefined;
  if (stream === undefined) {
    response.resume();
    return undefined;
  }
  return (await readBoundedBody(response, maxBytes, stream))?.toString('utf8');
}
