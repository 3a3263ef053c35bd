import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { BundleSource } from './bundle-source.ts';

export interface HttpBundleSourceOptions {
  /** The bundle's URL (OPA bundle service `<service url>/<resource>`). Userinfo becomes Basic auth. */
  url: string;
  /** Time between polls while all is well. */
  pollIntervalMs: number;
  /** Abort one download (connect to last byte) after this long. */
  timeoutMs: number;
  /** Extra request headers, e.g. Authorization. Never logged or put in errors. */
  headers?: Record<string, string>;
  /** Largest bundle accepted; a larger response is an error. */
  maxBytes: number;
  /** First retry delay after a failure; doubles per consecutive failure. Default 500 ms. */
  retryMinMs?: number;
  /** Cap of the retry delay. Default 60000 ms. */
  retryMaxMs?: number;
}

type Download = { readonly status: 200; readonly body: Buffer; readonly etag: string | undefined } | { readonly status: 304 };

const MAX_REDIRECTS = 5;

/**
 * Polls a bundle server with OPA's bundle protocol: a conditional GET with the last ETag; 200
 * delivers the new bundle, 304 means nothing changed. After a failure it retries with capped
 * exponential backoff (with jitter), then returns to the normal interval. When the first
 * download fails, `start` rejects but polling goes on until `stop`.
 */
export class HttpBundleSource implements BundleSource {
  readonly description: string;
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private etag: string | undefined;
  private deliveredHash: string | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private checksDone = 0;
  private stopped = false;
  private readonly abort = new AbortController();
  private started = false;

  constructor(private readonly options: HttpBundleSourceOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`bundle URL must be http(s) (got ${url.protocol})`);
    if (!(options.maxBytes > 0)) throw new TypeError('HttpBundleSource: maxBytes must be positive');
    this.headers = { ...options.headers };
    if ((url.username || url.password) && !hasHeader(this.headers, 'authorization')) {
      const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      this.headers.Authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    url.username = '';
    url.password = '';
    this.url = url;
    this.description = `bundle ${redactedUrl(url)}`;
    this.retryMinMs = options.retryMinMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 60_000;
  }

  get checks(): number {
    return this.checksDone;
  }

  async start(onBundle: (archive: Buffer) => Promise<void>, onError: (error: Error) => void): Promise<void> {
    if (this.started) throw new Error(`${this.description}: already started`);
    this.started = true;
    const first = this.poll(onBundle);
    this.inFlight = first.catch(() => {});
    try {
      await first;
    } finally {
      this.inFlight = undefined;
      this.scheduleNext(onBundle, onError);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.inFlight;
  }

  private scheduleNext(onBundle: (archive: Buffer) => Promise<void>, onError: (error: Error) => void): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.poll(onBundle)
        .catch((error: Error) => {
          if (!this.stopped) onError(error);
        })
        .finally(() => {
          this.inFlight = undefined;
          this.checksDone += 1;
          this.scheduleNext(onBundle, onError);
        });
    }, this.nextDelay());
    this.timer.unref();
  }

  private nextDelay(): number {
    if (this.failures === 0) return this.options.pollIntervalMs;
    const ceiling = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** Math.min(this.failures - 1, 30));
    // Jitter keeps a fleet of PDPs from retrying a recovering server in lockstep.
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** One conditional download; throws (and counts a failure) on any error. */
  private async poll(onBundle: (archive: Buffer) => Promise<void>): Promise<void> {
    try {
      const result = await this.download();
      if (result.status === 200 && !this.stopped) {
        // Servers without ETags answer 200 every time: unchanged content is not delivered again.
        const hash = createHash('sha256').update(result.body).digest('hex');
        if (hash !== this.deliveredHash) {
          await onBundle(result.body);
          this.deliveredHash = hash;
        }
        // Only once it was accepted: a bundle that failed is downloaded again next time.
        this.etag = result.etag;
      }
      this.failures = 0;
    } catch (error) {
      this.failures++;
      throw error;
    }
  }

  private async download(): Promise<Download> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const signal = AbortSignal.any([deadline, this.abort.signal]);
    let url = this.url;
    let headers: Record<string, string> = { ...this.headers };
    for (let redirects = 0; ; redirects++) {
      const requestHeaders: OutgoingHttpHeaders = { ...headers, accept: 'application/gzip, application/octet-stream, */*', 'user-agent': 'portcullis-pdp' };
      if (this.etag !== undefined) requestHeaders['if-none-match'] = this.etag;
      let response: IncomingMessage;
      try {
        response = await send(url, requestHeaders, signal);
      } catch (error) {
        throw this.failure(deadline.aborted ? `timed out after ${this.options.timeoutMs} ms` : (error as Error).message);
      }
      const status = response.statusCode ?? 0;
      if (status === 304) {
        response.resume();
        return { status: 304 };
      }
      if (status === 200) {
        const body = await this.readBody(response, deadline);
        const etag = response.headers.etag;
        return { status: 200, body, etag: etag === undefined || etag === '' ? undefined : etag };
      }
      response.resume();
      const location = response.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location) {
        if (redirects === MAX_REDIRECTS) throw this.failure(`more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw this.failure(`redirect to unsupported scheme ${next.protocol}`);
        // Credentials are for the configured server only, as browsers and Go's client do it.
        if (next.origin !== url.origin) headers = {};
        url = next;
        continue;
      }
      throw this.failure(`server answered HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`);
    }
  }

  private readBody(response: IncomingMessage, deadline: AbortSignal): Promise<Buffer> {
    const max = this.options.maxBytes;
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      response.destroy();
      return Promise.reject(this.failure(`bundle of ${declared} bytes exceeds the limit of ${max} bytes`));
    }
    return new Promise<Buffer>((resolvePromise, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          response.destroy();
          reject(this.failure(`bundle exceeds the limit of ${max} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolvePromise(Buffer.concat(chunks, size)));
      response.on('error', (error) => reject(this.failure(deadline.aborted ? `timed out after ${this.options.timeoutMs} ms` : error.message)));
      response.on('close', () => {
        if (!response.complete) reject(this.failure('connection closed before the bundle was complete'));
      });
    });
  }

  private failure(reason: string): Error {
    return new Error(`${this.description}: download failed: ${reason}`);
  }
}

function send(url: URL, headers: OutgoingHttpHeaders, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolvePromise, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'GET', headers, signal }, resolvePromise);
    request.on('error', reject);
    request.end();
  });
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

/** The URL without credentials: userinfo dropped, query values (presigned URLs carry signatures) hidden. */
/** The URL without user, password or query values (a bundle server's token may ride in any of them). */
export function redactedUrl(url: URL): string {
  const keys = [...new Set(url.searchParams.keys())];
  const query = keys.length > 0 ? `?${keys.map((key) => `${encodeURIComponent(key)}=…`).join('&')}` : '';
  return `${url.protocol}//${url.host}${url.pathname}${query}`;
}
