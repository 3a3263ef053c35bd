/**
 * What a principal whose results are masked gets of the server's ErrorResponse and
 * NoticeResponse: its SQLSTATE, its severity, the error position in the client's own statement,
 * and a fixed text for that SQLSTATE. Every other field is dropped.
 *
 * Why not scrub: any field can carry a value, whatever its SQLSTATE and whatever the value's
 * shape (`relation "518204937" does not exist`, `unrecognized configuration parameter "…"`,
 * `Key (email)=(…)`, `Failing row contains (…)`, a RAISE of any text, a context line quoting a
 * function's argument, the internal query of dynamic SQL), and a value that was never returned
 * as a cell is in no memory and matches no detector. What is kept is provably not data:
 * - the SQLSTATE, once known to PostgreSQL (a RAISE … USING ERRCODE computed from a column is
 *   not): a code outside PostgreSQL's list becomes its class's general code, one of an unknown
 *   class `P0001`;
 * - the severity, one of the words PostgreSQL uses;
 * - the position (`P`, digits), an offset into the text the client sent;
 * - the message, when it is exactly one of PostgreSQL's messages that have no variable part
 *   (`division by zero`, `canceling statement due to user request`, …: fixed-server-messages.ts);
 *   any other message becomes the condition's name (`undefined table`).
 */
import { MessageBuilder } from '../protocol/message-builder.ts';
import { FIXED_SERVER_MESSAGES } from './fixed-server-messages.ts';
import { SQLSTATE_CLASSES, SQLSTATE_CONDITIONS } from './sqlstate-conditions.ts';

const SEVERITIES = new Set(['ERROR', 'FATAL', 'PANIC', 'WARNING', 'NOTICE', 'DEBUG', 'INFO', 'LOG']);
const NOTICE_SEVERITIES = new Set(['WARNING', 'NOTICE', 'DEBUG', 'INFO', 'LOG']);
// A translated severity (lc_messages): letters and spaces, short.
const LOCALISED_SEVERITY = /^[\p{L} ]{1,24}$/u;
const POSITION = /^\d{1,10}$/;
const SQLSTATE = /^[0-9A-Z]{5}$/;

export const WITHHELD_HINT = "portcullis: the server's text is withheld because this principal's results are masked; the SQLSTATE says what happened";

/** `type`: `E` (ErrorResponse) or `N` (NoticeResponse); `body` without type and length. Returns the reduced body. */
export function reduceErrorOrNotice(type: 'E' | 'N', body: Buffer): Buffer {
  const fields = readFields(body);
  const nonLocalised = fields.get('V');
  const severity = nonLocalised !== undefined && SEVERITIES.has(nonLocalised)
    ? nonLocalised
    : type === 'N' ? 'NOTICE' : 'ERROR';
  // A notice cannot claim to be an error or the reverse: the client acts on the type byte.
  const kept = type === 'N' ? (NOTICE_SEVERITIES.has(severity) ? severity : 'NOTICE') : (NOTICE_SEVERITIES.has(severity) ? 'ERROR' : severity);
  const shown = fields.get('S');
  const localised = shown !== undefined && LOCALISED_SEVERITY.test(shown) && kept === severity ? shown : kept;
  const code = knownSqlState(fields.get('C'), type);
  const message = fields.get('M');
  const fixed = message !== undefined && FIXED_SERVER_MESSAGES.has(message);
  const builder = new MessageBuilder()
    .byte(0x53).cstring(localised) // S
    .byte(0x56).cstring(kept) // V
    .byte(0x43).cstring(code) // C
    .byte(0x4d).cstring(fixed ? message : fixedText(code)); // M
  if (!fixed) builder.byte(0x48).cstring(WITHHELD_HINT); // H
  const position = fields.get('P');
  if (position !== undefined && POSITION.test(position)) builder.byte(0x50).cstring(position);
  return builder.byte(0).build(type).subarray(5);
}

/** The condition's name (`invalid text representation`), `notice` for a plain notice. */
export function fixedText(code: string): string {
  if (code === '00000') return 'notice';
  return SQLSTATE_CONDITIONS.get(code) ?? SQLSTATE_CLASSES.get(code.slice(0, 2)) ?? 'error';
}

function knownSqlState(code: string | undefined, type: 'E' | 'N'): string {
  if (code !== undefined && SQLSTATE.test(code)) {
    if (SQLSTATE_CONDITIONS.has(code)) return code;
    // Every class PostgreSQL knows has its general code, `<class>000`.
    if (SQLSTATE_CLASSES.has(code.slice(0, 2))) return `${code.slice(0, 2)}000`;
  }
  return type === 'N' ? '00000' : 'P0001';
}

/** The fields by code; a body that is no field list gives what could be read (the rest is dropped anyway). */
function readFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let offset = 0;
  while (offset < body.length) {
    const code = body[offset]!;
    if (code === 0) break;
    const end = body.indexOf(0, offset + 1);
    if (end === -1) break;
    fields.set(String.fromCharCode(code), body.toString('utf8', offset + 1, end));
    offset = end + 1;
  }
  return fields;
}
