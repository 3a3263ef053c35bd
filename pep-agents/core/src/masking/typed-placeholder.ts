import type { MaskValueType } from './mask-strategy.ts';

/** The fixed text that stands for a hidden value. */
export const REDACTED_TEXT = '****';

// Each parses as its type in text format, so typed clients keep working on masked rows.
const PLACEHOLDERS: Readonly<Record<MaskValueType, string>> = {
  text: REDACTED_TEXT,
  number: '0',
  boolean: 'f',
  date: '1970-01-01',
  time: '00:00:00',
  timestamp: '1970-01-01 00:00:00',
  timestamptz: '1970-01-01 00:00:00+00',
  uuid: '00000000-0000-0000-0000-000000000000',
  json: `"${REDACTED_TEXT}"`,
  // bytea's hex output format, empty.
  bytes: '\\x',
};

/** A value that hides everything and still parses as `type`. */
export function typedPlaceholder(type: MaskValueType = 'text'): string {
  return PLACEHOLDERS[type] ?? REDACTED_TEXT;
}
