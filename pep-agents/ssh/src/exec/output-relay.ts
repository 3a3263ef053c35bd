import type { Readable, Writable } from 'node:stream';
import type { ByteStreamMasker } from '@portcullis/pep-core';

export interface RelayTotals {
  /** Bytes written to the client, after masking. */
  readonly bytes: number;
  /** Values the masker replaced. */
  readonly masked: number;
}

/**
 * Copies one output stream of the host to the client, through the masker when policy asked for
 * one, with backpressure: when the client's window is full the host's stream is paused, so a
 * large output never piles up in the PEP. Resolves when the host's stream ended (or closed) and
 * what the masker held back was written; never ends `sink` (the exit status goes first).
 * `onSent` sees each chunk exactly as the client is sent it (a recording of what it saw).
 */
export function relayOutput(
  source: Readable,
  sink: Writable,
  masker: ByteStreamMasker | undefined,
  onSent?: (chunk: Buffer) => void,
  /** The client is gone: stop relaying (a dead connection's streams may never end). */
  stop?: AbortSignal,
): Promise<RelayTotals> {
  return new Promise((resolve) => {
    let bytes = 0;
    let finished = false;
    const write = (chunk: Buffer): void => {
      if (chunk.length === 0) return;
      bytes += chunk.length;
      onSent?.(chunk);
      if (!sink.write(chunk)) {
        source.pause();
        sink.once('drain', () => source.resume());
      }
    };
    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (masker) write(masker.end());
      resolve({ bytes, masked: masker?.masked ?? 0 });
    };
    source.on('data', (chunk: Buffer) => write(masker ? masker.push(chunk) : chunk));
    source.once('end', finish);
    source.once('close', finish);
    if (stop?.aborted) finish();
    else stop?.addEventListener('abort', finish, { once: true });
  });
}
