/**
 * ErrorResponse and NoticeResponse bodies can quote row values: `invalid input syntax for type
 * integer: "123-45-6789"`, `Key (email)=(jane@example.com) already exists.`, a RAISE NOTICE of a
 * column. Their free-text fields (message, detail, hint, context, internal query) are scrubbed of
 * every value masked earlier in the session and of every value a detector recognises. When the
 * statement touches masked columns, a data exception (class 22) also has its quoted values
 * replaced, and the detail of a data or integrity error (classes 22, 23), which is where the
 * server prints the offending row or key, is dropped.
 */
import type { ValueScrubber } from '@portcullis/pep-core';
import type { MaskedValueMemory } from './masked-value-memory.ts';

/** M message, D detail, H hint, W context, q internal query. */
const FREE_TEXT_FIELDS = new Set(['M', 'D', 'H', 'W', 'q']);
const REPLACEMENT = '****';
const QUOTED = /"[^"]*"/g;

export interface NoticeScrubContext {
  readonly memory: MaskedValueMemory;
  readonly scrubber: ValueScrubber;
  /** The statement carries mask obligations: any quoted value may be one of its masked cells. */
  readonly touchesMaskedColumns: boolean;
}

interface Field {
  readonly code: string;
  raw: Buffer;
}

export function scrubErrorOrNotice(body: Buffer, context: NoticeScrubContext): Buffer {
  const fields = decodeFields(body);
  if (fields === undefined) return body; // not a field list: the relay's framing will reject it
  const sqlState = fields.find((field) => field.code === 'C')?.raw.toString('latin1') ?? '';
  const dataError = sqlState.startsWith('22');
  const rowError = dataError || sqlState.startsWith('23');
  let changed = false;
  const kept: Field[] = [];
  for (const field of fields) {
    if (!FREE_TEXT_FIELDS.has(field.code)) {
      kept.push(field);
      continue;
    }
    if (context.touchesMaskedColumns && rowError && field.code === 'D') {
      changed = true;
      continue;
    }
    const original = field.raw.toString('utf8');
    let text = context.memory.scrub(original, REPLACEMENT);
    text = context.scrubber.scrubText(text).text;
    if (context.touchesMaskedColumns && dataError && field.code === 'M') text = text.replace(QUOTED, `"${REPLACEMENT}"`);
    if (text !== original) {
      field.raw = Buffer.from(text.replace(/\0/g, ''), 'utf8');
      changed = true;
    }
    kept.push(field);
  }
  return changed ? encodeFields(kept) : body;
}

function decodeFields(body: Buffer): Field[] | undefined {
  const fields: Field[] = [];
  let offset = 0;
  while (offset < body.length) {
    const code = body[offset] as number;
    if (code === 0) return offset === body.length - 1 ? fields : undefined;
    const end = body.indexOf(0, offset + 1);
    if (end === -1) return undefined;
    fields.push({ code: String.fromCharCode(code), raw: body.subarray(offset + 1, end) });
    offset = end + 1;
  }
  return undefined;
}

function encodeFields(fields: readonly Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) parts.push(Buffer.from([field.code.charCodeAt(0)]), field.raw, Buffer.from([0]));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}
