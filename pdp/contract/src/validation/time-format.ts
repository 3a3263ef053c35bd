import { FormatRegistry } from '@sinclair/typebox';

/**
 * `format: "date-time"` as the contract reads it: a time JavaScript's Date can read (ISO 8601 is
 * what every PEP sends). Registered once, for TypeBox's checks and the field explanations alike.
 */
export const DATE_TIME = 'date-time';

if (!FormatRegistry.Has(DATE_TIME)) {
  FormatRegistry.Set(DATE_TIME, (value) => !Number.isNaN(new Date(value).getTime()));
}
