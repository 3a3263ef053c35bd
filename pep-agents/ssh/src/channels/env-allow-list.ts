// Which `env` requests a client may pass upstream. sshd would hand them to the login shell before
// the command runs, so a variable that changes what a program loads or runs (BASH_ENV, ENV,
// LD_PRELOAD, PATH, IFS, PS4, PYTHONPATH, NODE_OPTIONS, GIT_* …) would make the host run something
// other than what the PDP judged. Rather than chase that family name by name, only names from a
// closed catalogue of locale and terminal settings can be allowed at all, and their values are
// held to the characters such settings use (no '/', so no path a library would load from).
import { configFail } from '@portcullis/pep-core';

/** Every name an allow-list may hold: locale and terminal settings, which load nothing executable. */
const HARMLESS_NAMES = /^(LANG|LANGUAGE|LC_[A-Z]+|TERM|COLORTERM)$/;
const HARMLESS_PATTERNS = new Set(['LC_*']);
const VALUE = /^[A-Za-z0-9_.@+:-]{0,128}$/;
/** The locale categories, whose value also picks the character set the host's shell reads bytes in. */
const LOCALE_NAMES = /^(LANG|LC_[A-Z]+)$/;
// Only locales whose bytes the PDP's parser reads as the shell will: C/POSIX (ASCII) or UTF-8,
// named outright. A codeset such as BIG5, GBK, GB18030 or Shift_JIS has multibyte characters
// whose second byte can be `\`, `;` or a quote, so the shell would split a command where the
// parser saw one word; a locale without a codeset (zh_TW) defaults to such a set on the host.
const PARSER_SAFE_LOCALE = /^(|C|POSIX|(C|[A-Za-z]{2,3}(_[A-Za-z]{2})?)\.(UTF-8|utf-8|UTF8|utf8)(@[A-Za-z0-9]{1,32})?)$/;

/** At start: an allow-list naming anything outside the catalogue is a config error. */
export function checkEnvAllowList(variable: string, names: readonly string[]): void {
  for (const name of names) {
    if (!HARMLESS_NAMES.test(name) && !HARMLESS_PATTERNS.has(name)) {
      configFail(variable, `${name} cannot be allowed: only locale and terminal settings (LANG, LANGUAGE, LC_*, TERM, COLORTERM) may pass to the host`);
    }
  }
}

/** Why an `env` request is refused, or undefined when it may pass upstream. */
export function envRefusal(allowList: readonly string[], name: string, value: string): string | undefined {
  const listed = allowList.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : name === entry));
  if (!listed || !HARMLESS_NAMES.test(name)) return `${name} is not on the environment allow-list`;
  if (!VALUE.test(value)) return `the value of ${name} holds characters a locale or terminal name does not`;
  if (LOCALE_NAMES.test(name) && !isParserSafeLocale(value)) return `${name} must be C, POSIX or a UTF-8 locale (xx_YY.UTF-8): another character set would have the host's shell read the command otherwise than policy did`;
  return undefined;
}

/** Whether a locale setting's value has the shell read bytes as the PDP's parser does (C, POSIX, UTF-8). */
export function isParserSafeLocale(value: string): boolean {
  return PARSER_SAFE_LOCALE.test(value);
}
