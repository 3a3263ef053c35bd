import { decodeParameterStatus } from '../protocol/backend-messages.ts';

/**
 * Server settings that change how PostgreSQL reads SQL text, with the one value the PDP's parser
 * and the PEP's statement-shape scanner assume. Both are GUC_REPORT settings, so the server says
 * when they change (at start-up, and before the ReadyForQuery that follows a change):
 * - standard_conforming_strings: off makes a backslash escape a quote inside '…', so one text
 *   holds other statements for the server than for the parser that judged it;
 * - client_encoding: in SJIS, BIG5, GBK … a multibyte character may end in the byte of a quote or
 *   backslash; in any encoding but UTF8 the bytes the server reads are not the text that was judged.
 */
const EXPECTED: ReadonlyMap<string, string> = new Map([
  ['standard_conforming_strings', 'on'],
  ['client_encoding', 'UTF8'],
]);

/** The server reports a parser-sensitive setting at a value the PEP's analysis does not hold for. */
export class ParserSettingChangedError extends Error {
  constructor(
    readonly setting: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`the server reports ${setting} = ${value}; the PEP's analysis assumes ${expected}`);
    this.name = 'ParserSettingChangedError';
  }
}

/** Throws for a ParameterStatus message (its body) that reports a parser-sensitive setting off its expected value. */
export function checkParameterStatus(body: Buffer): void {
  const { name, value } = decodeParameterStatus(body);
  const expected = EXPECTED.get(name.toLowerCase());
  if (expected !== undefined && value !== expected) throw new ParserSettingChangedError(name, value, expected);
}
