/**
 * The server reports some settings to the client whenever they change (ParameterStatus). A
 * setting whose value can be any text (application_name, a POSIX TimeZone like `<518204937>5`,
 * scram_iterations, a role name) can carry a value computed from a masked column
 * (`set_config('application_name', (SELECT ssn …), false)`). After start-up, a principal whose
 * results are masked is told of a change only when the new value is one of the few the setting
 * can take; any other change is withheld (the client keeps the value it knew).
 */
const ON_OFF = /^(on|off)$/;
const ENCODING = /^(SQL_ASCII|UTF8|MULE_INTERNAL|LATIN([1-9]|10)|ISO_8859_[5-8]|WIN(866|874|125[0-8])|KOI8[RU]|EUC_(CN|JP|JIS_2004|KR|TW)|SJIS|SHIFT_JIS_2004|BIG5|GBK|UHC|GB18030|JOHAB)$/;

const CLOSED_VALUES: ReadonlyMap<string, RegExp> = new Map([
  ['client_encoding', ENCODING],
  ['server_encoding', ENCODING],
  ['DateStyle', /^(ISO|Postgres|SQL|German), (DMY|MDY|YMD)$/],
  ['IntervalStyle', /^(postgres|postgres_verbose|sql_standard|iso_8601)$/],
  // tz database names hold no digits; a POSIX zone (which can hold any letters) needs its offset's.
  ['TimeZone', /^[A-Za-z_]{1,32}(\/[A-Za-z_-]{1,32}){0,2}$/],
  ['integer_datetimes', ON_OFF],
  ['standard_conforming_strings', ON_OFF],
  ['is_superuser', ON_OFF],
  ['in_hot_standby', ON_OFF],
  ['default_transaction_read_only', ON_OFF],
]);

/** Whether a reported value is one its setting takes from a closed set, so it cannot carry data. */
export function isClosedParameterValue(name: string, value: string): boolean {
  return CLOSED_VALUES.get(name)?.test(value) ?? false;
}
