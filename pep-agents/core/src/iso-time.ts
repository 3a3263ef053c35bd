/** The second last formatted, and its text up to the milliseconds ("2026-12-07T11:30:22."). */
let formattedSecond = Number.NaN;
let secondText = '';

/**
 * `new Date(ms).toISOString()`, for the times of session entries: a busy session stamps many
 * entries each second, and formatting a whole date per entry was a visible part of the PEP's
 * CPU. The text up to the second is formatted once per second; the same string as toISOString.
 */
export function isoTimeOf(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== formattedSecond) {
    secondText = new Date(second * 1000).toISOString().slice(0, -4);
    formattedSecond = second;
  }
  const millis = Math.floor(ms) - second * 1000;
  return `${secondText}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
