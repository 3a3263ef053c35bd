import { setTimeout as sleep } from 'node:timers/promises';
import { terminalTextToBytes, type RecordingEventV1 } from '@portcullis/contract';

export interface PlayOptions {
  /** 1 plays at the recorded speed, 2 twice as fast … */
  readonly speed: number;
  /** Writes everything at once: the terminal as it was at the end. */
  readonly toEnd: boolean;
  /** Pauses longer than this many recorded seconds are shortened to it (asciinema's idle time limit). */
  readonly idleLimitSeconds?: number;
  /** How to wait; replaceable in tests. */
  readonly wait?: (milliseconds: number) => Promise<void>;
  readonly signal?: AbortSignal;
}

/**
 * Plays a recording's output (`o` events) to a terminal: the exact bytes the client was sent,
 * at the recorded pace divided by `speed`, or at once with `toEnd`. Input, resize and marker
 * events are not written (the terminal shows what the client saw, echo included).
 */
export async function playRecording(events: readonly RecordingEventV1[], write: (bytes: Uint8Array) => void, options: PlayOptions): Promise<void> {
  const wait = options.wait ?? ((milliseconds: number) => sleep(milliseconds, undefined, options.signal ? { signal: options.signal } : {}));
  let previous = 0;
  for (const [time, code, data] of events) {
    if (code !== 'o') continue;
    if (options.signal?.aborted) return;
    if (!options.toEnd) {
      const idle = Math.max(time - previous, 0);
      const seconds = options.idleLimitSeconds === undefined ? idle : Math.min(idle, options.idleLimitSeconds);
      const milliseconds = (seconds * 1000) / options.speed;
      if (milliseconds >= 1) {
        try {
          await wait(milliseconds);
        } catch (error) {
          if (options.signal?.aborted) return;
          throw error;
        }
      }
    }
    previous = Math.max(previous, time);
    write(terminalTextToBytes(data));
  }
}
