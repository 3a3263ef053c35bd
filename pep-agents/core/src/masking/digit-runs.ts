/**
 * Where a text has runs of digits joined by single spaces or dashes (`4111 1111-1111`) holding at
 * least `minDigits` digits, as [start, end) pairs in text order: the only places a detector of
 * long numbers (cards, accounts) can find one, so it runs its regular expressions only there
 * rather than over every short number of a digit-dense text (timestamps, counters and ids in logs).
 *
 * A run of `minDigits` digits is at least `minDigits` characters long, so it covers one of every
 * `minDigits`-th character: only those are probed, and a run is walked out in both directions from
 * a probe that lands in one. Prose and logs cost a few reads per `minDigits` characters instead of
 * a read of each.
 */
export function digitRuns(text: string, minDigits: number): number[] {
  const runs: number[] = [];
  const length = text.length;
  const step = Math.max(1, Math.floor(minDigits));
  let probe = step - 1;
  while (probe < length) {
    const start = runStartAround(text, probe);
    if (start === -1) {
      probe += step;
      continue;
    }
    const end = runEnd(text, start);
    if (digitCount >= minDigits) runs.push(start, end);
    // Probes stay at most `step` apart, and none falls in the run just walked again.
    probe = Math.max(probe + step, end);
  }
  return runs;
}

/** The start of the run `index` lies in (a digit, or a separator between two digits), or -1. */
function runStartAround(text: string, index: number): number {
  let at = index;
  if (!isDigit(text.charCodeAt(at))) {
    if (!isSeparator(text.charCodeAt(at)) || at === 0 || !isDigit(text.charCodeAt(at - 1)) || !isDigit(text.charCodeAt(at + 1))) return -1;
    at -= 1;
  }
  // `at` is a digit of the run: back over digits, and over a separator with a digit before it.
  for (;;) {
    if (at > 0 && isDigit(text.charCodeAt(at - 1))) at -= 1;
    else if (at > 1 && isSeparator(text.charCodeAt(at - 1)) && isDigit(text.charCodeAt(at - 2))) at -= 2;
    else return at;
  }
}

// Digits of the run `runEnd` walked last (a result beside its return value, so a walk allocates nothing).
let digitCount = 0;

/** From a run's first digit: where it ends (its digit count in `digitCount`). */
function runEnd(text: string, start: number): number {
  const length = text.length;
  let index = start;
  let digits = 0;
  let code = text.charCodeAt(index);
  for (;;) {
    while (code >= 0x30 && code <= 0x39) {
      digits += 1;
      index += 1;
      // 0 past the end: reading past a string's end gives NaN, whose comparisons V8 handles on a slow path.
      code = index < length ? text.charCodeAt(index) : 0;
    }
    // One space or dash between digits continues the run.
    if (isSeparator(code) && index + 1 < length) {
      const after = text.charCodeAt(index + 1);
      if (after >= 0x30 && after <= 0x39) {
        index += 1;
        code = after;
        continue;
      }
    }
    digitCount = digits;
    return index;
  }
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isSeparator(code: number): boolean {
  return code === 0x20 || code === 0x2d;
}
