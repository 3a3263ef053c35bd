const UNIT_SECONDS = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

/** Anything longer is a typo or a standing credential, not a TTL. */
export const MAX_TTL_SECONDS = 366 * 86_400;

/**
 * Parses a time-to-live into whole seconds: "900" (seconds), "30s", "15m", "1h", "2d", or a
 * combination from largest to smallest unit such as "1h30m". Throws a RangeError that quotes the
 * input and says what is accepted.
 */
export function parseTtlSeconds(text: string): number {
  const input = text.trim();
  const shown = input.length > 32 ? `${input.slice(0, 32)}…` : input;
  const accepted = 'use a number of seconds or a duration such as 30s, 15m, 1h, 2d, 1h30m';
  if (input === '') throw new RangeError(`empty duration: ${accepted}`);

  let seconds: number;
  if (/^\d+$/.test(input)) {
    seconds = Number(input);
  } else {
    const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(input);
    if (!match) throw new RangeError(`invalid duration "${shown}": ${accepted}`);
    const [, days, hours, minutes, secs] = match;
    seconds =
      Number(days ?? 0) * UNIT_SECONDS.d +
      Number(hours ?? 0) * UNIT_SECONDS.h +
      Number(minutes ?? 0) * UNIT_SECONDS.m +
      Number(secs ?? 0) * UNIT_SECONDS.s;
  }

  if (seconds <= 0) throw new RangeError(`duration "${shown}" must be greater than zero`);
  if (seconds > MAX_TTL_SECONDS) {
    throw new RangeError(`duration "${shown}" is longer than the maximum of ${MAX_TTL_SECONDS / 86_400}d`);
  }
  return seconds;
}
