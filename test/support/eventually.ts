/**
 * Waits for something another process or an asynchronous path makes true: the condition is asked
 * again every `intervalMs` until it returns a value that is not false, null, undefined, 0 or ''
 * (that value is returned) or the bound runs out. A condition that throws (an assertion that does
 * not hold yet) is asked again too. When the bound runs out the error names what never became
 * true, how long it was waited for, and the condition's last answer or error, so a failure says
 * what was expected instead of hanging or timing out the whole file.
 *
 * Use it for every "poll until" in the suites; never sleep and then assert.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** How long the condition has to become true, in milliseconds (default 10 000). */
  readonly timeoutMs?: number;
  /** The pause between two askings, in milliseconds (default 50). */
  readonly intervalMs?: number;
}

type Falsy = false | null | undefined | 0 | '';

export async function eventually<T>(
  what: string,
  condition: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<Exclude<T, Falsy>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = performance.now() + timeoutMs;
  let last: { readonly error: unknown } | { readonly value: unknown } = { value: undefined };
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as Exclude<T, Falsy>;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (performance.now() >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - performance.now())));
  }
  const lastAnswer = 'error' in last ? `its last error: ${describe(last.error)}` : `its last answer: ${describe(last.value)}`;
  throw new Error(`never became true within ${timeoutMs} ms: ${what} (${lastAnswer})`, 'error' in last ? { cause: last.error } : undefined);
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
