import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { type MaskedBody, maskedJsonBody, maskedTextBody, UnmaskableBodyError } from './masked-body.ts';
import type { RelayOutcome } from '../pipeline/response-relay.ts';
import { endToEndHeaders } from '../pipeline/relayed-headers.ts';
import { masksAnything, type MaskingPlan } from './masking-plan.ts';
import { WITHHELD_REASONS, type WithheldReason, writeWithheldStatus } from './withheld-response.ts';

/** What the client was sent of one answer; `withheld` says why (part of) it was not relayed. */
export interface MaskedRelayOutcome extends RelayOutcome {
  readonly withheld?: WithheldReason;
}

const CLIENT_GONE = 'the client went away before the answer was relayed in full';
// The length and encoding of a body the relay rewrites are its own.
const REWRITTEN_BODY_HEADERS = new Set(['content-length', 'content-encoding']);

/**
 * Relays one API server response to the client. With nothing to mask it is streamed untouched
 * (bytes, encoding and all). Otherwise JSON (get, list, table, watch) is masked value by value as
 * it arrives, text (logs) through the detectors, gzip or deflate decoded first; a response in any
 * other format, or with a body that cannot be read, is withheld (a 502 `Status` before the
 * headers went out, a cut connection after) and never relayed as it came.
 */
export function relayMasked(upstream: IncomingMessage, client: ServerResponse, plan: MaskingPlan, signal?: AbortSignal): Promise<MaskedRelayOutcome> {
  if (!masksAnything(plan)) {
    writeHead(client, upstream, endToEndHeaders(upstream.headers));
    return pump(upstream, upstream, client, undefined, signal);
  }
  const decoded = decodedBody(upstream);
  if (decoded === undefined) return Promise.resolve(withhold(upstream, client, 'unknown-encoding'));
  const body = maskedBodyFor(upstream.headers['content-type'], plan);
  if (body === undefined) return relayOnlyIfEmpty(upstream, decoded, client);
  writeHead(client, upstream, endToEndHeaders(upstream.headers, REWRITTEN_BODY_HEADERS));
  return pump(upstream, decoded, client, body, signal);
}

function writeHead(client: ServerResponse, upstream: IncomingMessage, headers: OutgoingHttpHeaders): void {
  // Sent with the first body bytes, or by the pump once this turn of the event loop is over.
  client.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, headers);
}

function maskedBodyFor(contentType: string | undefined, plan: MaskingPlan): MaskedBody | undefined {
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return maskedJsonBody(plan);
  // Paths select nothing in text: text is relayed only when no path asks for masking.
  if (type === 'text/plain' && plan.pathMasker === undefined) return maskedTextBody(plan);
  return undefined;
}

function decodedBody(upstream: IncomingMessage): Readable | undefined {
  const encoding = String(upstream.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return upstream;
  if (encoding === 'gzip' || encoding === 'x-gzip') return upstream.pipe(createGunzip());
  if (encoding === 'deflate') return upstream.pipe(createInflate());
  return undefined;
}

function withhold(upstream: IncomingMessage, client: ServerResponse, reason: WithheldReason): MaskedRelayOutcome {
  upstream.destroy();
  return { status: 502, bytes: writeWithheldStatus(client, reason), masked: 0, error: WITHHELD_REASONS[reason], withheld: reason };
}

/** A body the relay cannot mask passes only when it turns out empty (a HEAD, a 204). */
function relayOnlyIfEmpty(upstream: IncomingMessage, decoded: Readable, client: ServerResponse): Promise<MaskedRelayOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: () => MaskedRelayOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome());
    };
    decoded.on('data', (chunk: Buffer) => {
      if (chunk.length > 0) settle(() => withhold(upstream, client, 'not-json'));
    });
    decoded.once('error', () => settle(() => withhold(upstream, client, 'upstream-failed')));
    decoded.once('end', () =>
      settle(() => {
        client.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, endToEndHeaders(upstream.headers, REWRITTEN_BODY_HEADERS));
        client.end();
        return { status: upstream.statusCode ?? 502, bytes: 0, masked: 0 };
      }),
    );
  });
}

/**
 * Copies `source` (the upstream body, decoded when masked) to the client with backpressure,
 * through `body` when masking. Settles once when the body ended, failed, or either side closed.
 *
 * What one read of the upstream relays leaves in one write: the headers with the first bytes,
 * and a body that arrived whole with its end (one TLS record and one system call for a small
 * answer instead of three). Headers of an answer whose body is still to come (a watch waiting
 * for its first event) go out at once, as the API server sends them.
 */
function pump(upstream: IncomingMessage, source: Readable, client: ServerResponse, body: MaskedBody | undefined, signal: AbortSignal | undefined): Promise<MaskedRelayOutcome> {
  const status = upstream.statusCode ?? 502;
  return new Promise((resolve) => {
    let bytes = 0;
    let settled = false;
    let corked = false;
    // Once the read that brought the head is processed: did body bytes come with it?
    queueMicrotask(() => {
      if (!settled && bytes === 0 && !client.writableEnded && !bodyArriving(upstream)) client.flushHeaders();
    });
    // After the read's ticks (the end of a body read whole included): its writes leave together.
    const uncork = (): void => {
      if (!corked) return;
      corked = false;
      if (!client.writableEnded && !client.destroyed) client.uncork();
    };
    const settle = (error?: string, withheld?: WithheldReason): void => {
      if (settled) return;
      settled = true;
      client.off('close', clientGone);
      signal?.removeEventListener('abort', clientGone);
      resolve({ status, bytes, masked: body?.masked ?? 0, ...(error ? { error } : {}), ...(withheld ? { withheld } : {}) });
    };
    const cut = (withheld: WithheldReason): void => {
      upstream.destroy();
      if (source !== upstream) source.destroy();
      // What was relayed (masked) before the failure goes out first.
      uncork();
      // The headers are written: a cut connection is the only way left to say "incomplete".
      client.destroy();
      settle(WITHHELD_REASONS[withheld], withheld);
    };
    const write = (chunk: Buffer): void => {
      if (chunk.length === 0) {
        // A masked value still incomplete: the client gets the headers while the rest arrives.
        if (bytes === 0 && !upstream.complete) client.flushHeaders();
        return;
      }
      if (!corked) {
        corked = true;
        client.cork();
        queueMicrotask(uncork);
      }
      bytes += chunk.length;
      if (!client.write(chunk)) {
        source.pause();
        client.once('drain', () => source.resume());
      }
    };
    const clientGone = (): void => {
      if (settled) return;
      upstream.destroy();
      if (source !== upstream) source.destroy();
      client.destroy();
      settle(CLIENT_GONE);
    };
    client.on('close', clientGone);
    if (signal?.aborted) return clientGone();
    signal?.addEventListener('abort', clientGone, { once: true });
    source.on('data', (chunk: Buffer) => {
      if (settled) return;
      try {
        write(body ? body.push(chunk) : chunk);
      } catch (error) {
        cut(reasonOf(error));
      }
    });
    source.once('end', () => {
      if (settled) return;
      try {
        if (body) write(body.end());
      } catch (error) {
        return cut(reasonOf(error));
      }
      client.end();
      settle();
    });
    source.once('error', () => cut('upstream-failed'));
    upstream.once('close', () => {
      if (!upstream.complete) cut('upstream-failed');
    });
  });
}

/** Body bytes are here already, or the answer is complete: its headers can wait for them. */
function bodyArriving(upstream: IncomingMessage): boolean {
  return upstream.readableLength > 0 || upstream.complete;
}

// Whatever fails while masking cuts the response: nothing after the failure goes out unmasked.
function reasonOf(error: unknown): WithheldReason {
  return error instanceof UnmaskableBodyError ? error.reason : 'masking-failed';
}
