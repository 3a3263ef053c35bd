import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate } from 'node:zlib';
import { type KubeStatus, kubeStatus, STATUS_REASONS, type StatusCode } from '../status/kube-status.ts';
import type { KubeUpstream } from '../upstream/kube-upstream.ts';
import { isJsonObject, type JsonObject } from './json-value.ts';

/**
 * The object a patch or an apply lands on: a GET of the write's own path (no query) through the
 * upstream with the PEP's credential (the read comes before the decision, so there is no
 * principal to impersonate yet; the object goes to policy only). `absent` when the API server
 * says 404; its own `Status` when it refuses the read; a 502 when its answer cannot be read.
 */
export type CurrentObject = { found: JsonObject } | { absent: KubeStatus } | { refusal: KubeStatus };

export async function readCurrentObject(upstream: KubeUpstream, path: string, maxBytes: number, signal?: AbortSignal): Promise<CurrentObject> {
  let response: IncomingMessage;
  try {
    response = await upstream.request({
      method: 'GET',
      target: path,
      headers: { accept: 'application/json', 'accept-encoding': 'identity' },
      ...(signal ? { signal } : {}),
    });
  } catch {
    return { refusal: refusalOf(503, 'the API server could not be reached to read the object this write changes; nothing was changed') };
  }
  const text = await readBody(response, maxBytes);
  if (text === undefined) return { refusal: refusalOf(502, 'the object this write changes could not be read from the API server (too large or unreadable); nothing was changed') };
  const status = response.statusCode ?? 0;
  const parsed = parseJson(text);
  if (status === 200 && isJsonObject(parsed)) return { found: parsed };
  const serverStatus = asStatus(parsed, status);
  if (status === 404) return { absent: serverStatus };
  if (status >= 400 && status < 500) return { refusal: serverStatus };
  return { refusal: refusalOf(502, `the API server answered ${status} when the object this write changes was read; nothing was changed`) };
}

async function readBody(response: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const encoding = String(response.headers['content-encoding'] ?? 'identity').toLowerCase();
  const stream = encoding === 'gzip' ? response.pipe(createGunzip()) : encoding === 'deflate' ? response.pipe(createInflate()) : encoding === 'identity' ? response : undefined;
  if (stream === undefined) {
    response.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
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
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The API server's own Status (names and reasons only, no object content), or one of ours. */
function asStatus(parsed: unknown, status: number): KubeStatus {
  if (isJsonObject(parsed) && parsed.kind === 'Status' && typeof parsed.message === 'string') {
    return refusalOf(status, parsed.message);
  }
  return refusalOf(status, `the API server answered ${status} when the object this write changes was read`);
}

function refusalOf(status: number, message: string): KubeStatus {
  return kubeStatus(Object.hasOwn(STATUS_REASONS, status) ? (status as StatusCode) : 502, message);
}
