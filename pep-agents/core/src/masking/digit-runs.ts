/**
 * Where a text has runs of digits joined by single spaces or dashes (`4111 1111-1111`) holding at
 * least `minDigits` digits, as [start, end) pairs: the only places a detector of long numbers
 * (cards, accounts) can find one. A plain loop over char codes, so a detector runs its regular
 * expressions only there rather than over every short number of a digit-dense text (timestamps,
 * counters and ids in logs).
 */
export function digitRuns(text: string, minDigits: number): number[] {
  const runs: number[] = [];
  const length = text.length;
  let index = 0;
  while (index < length) {
    let code = text.charCodeAt(index);
    if (code < 0x30 || code > 0x39) {
      index += 1;
      continue;
    }
    const start = index;
    let digits = 0;
    for (;;) {
      while (code >= 0x30 && code <= 0x39) {
        digits += 1;
        index += 1;
        // 0 past the end: reading past a string's end gives NaN, whose comparisons V8 handles on a slow path.
        code = index < length ? text.charCodeAt(index) : 0;
      }
      // One space or dash between digits continues the run.
      if ((code === 0x20 || code === 0x2d) && index + 1 < length) {
        const after = text.charCodeAt(index + 1);
        if (after >= 0x30 && after <= 0x39) {
          index += 1;
          code = after;
          continue;
        }
      }
      break;
    }
    if (digits >= minDigits) runs.push(start, index);
  }
  return runs;
}
