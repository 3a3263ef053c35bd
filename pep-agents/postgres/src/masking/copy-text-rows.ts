/**
 * COPY … TO STDOUT rows in text and CSV format, as the server writes them: split into fields
 * exactly, and put back together with only the rewritten fields re-encoded. Rows are handled as
 * latin1 strings (one character per byte): delimiters, quotes and escapes are ASCII, so bytes
 * of any client encoding pass through untouched; a field's value is decoded as UTF-8 only when
 * it is masked or scrubbed.
 */
import type { StatementCopyFormat } from './statement-result-facts.ts';

export interface CopyTextSyntax {
  readonly csv: boolean;
  readonly delimiter: string;
  readonly nullString: string;
  readonly quote: string;
  readonly escape: string;
}

export function copyTextSyntax(format: StatementCopyFormat): CopyTextSyntax {
  const csv = format.format === 'csv';
  const quote = format.quote ?? '"';
  return {
    csv,
    delimiter: latin1(format.delimiter || (csv ? ',' : '\t')),
    nullString: latin1(format.null_string),
    quote: latin1(quote),
    escape: latin1(format.escape ?? quote),
  };
}

/** A row's fields as they appear on the wire (raw), without the line end. */
export interface CopyTextRow {
  readonly fields: string[];
  readonly lineEnd: string;
}

/**
 * Cuts a stream of COPY data into whole rows. The server sends one row per CopyData, but a
 * row is only whole at a line end outside CSV quotes, so whatever follows the last one waits.
 */
export class CopyTextRowSplitter {
  private pending = '';

  constructor(private readonly syntax: CopyTextSyntax) {}

  push(chunk: Buffer): string[] {
    this.pending += chunk.toString('latin1');
    const rows: string[] = [];
    let start = 0;
    let quoted = false;
    for (let index = 0; index < this.pending.length; index += 1) {
      const character = this.pending[index] as string;
      if (this.syntax.csv) {
        if (quoted && character === this.syntax.escape && this.syntax.escape !== this.syntax.quote) {
          index += 1;
          continue;
        }
        if (character === this.syntax.quote) {
          quoted = !quoted;
          continue;
        }
      } else if (character === '\\') {
        index += 1;
        continue;
      }
      if (character === '\n' && !quoted) {
        rows.push(this.pending.slice(start, index + 1));
        start = index + 1;
      }
    }
    this.pending = this.pending.slice(start);
    return rows;
  }
}

export function splitRow(line: string, syntax: CopyTextSyntax): CopyTextRow {
  const lineEnd = line.endsWith('\r\n') ? '\r\n' : line.endsWith('\n') ? '\n' : '';
  const body = line.slice(0, line.length - lineEnd.length);
  const fields: string[] = [];
  let start = 0;
  let quoted = false;
  for (let index = 0; index < body.length; index += 1) {
    const character = body[index] as string;
    if (syntax.csv) {
      if (quoted && character === syntax.escape && syntax.escape !== syntax.quote) {
        index += 1;
        continue;
      }
      if (character === syntax.quote) {
        quoted = !quoted;
        continue;
      }
    } else if (character === '\\') {
      index += 1;
      continue;
    }
    if (character === syntax.delimiter && !quoted) {
      fields.push(body.slice(start, index));
      start = index + 1;
    }
  }
  fields.push(body.slice(start));
  return { fields, lineEnd };
}

export function joinRow(row: CopyTextRow, syntax: CopyTextSyntax): Buffer {
  return Buffer.from(row.fields.join(syntax.delimiter) + row.lineEnd, 'latin1');
}

/** A raw field's value as UTF-8 text, or null for NULL. */
export function decodeField(raw: string, syntax: CopyTextSyntax): string | null {
  if (syntax.csv) {
    if (raw === syntax.nullString) return null;
    if (!raw.startsWith(syntax.quote)) return utf8(raw);
    return utf8(unquoteCsv(raw, syntax));
  }
  if (raw === syntax.nullString) return null;
  return utf8(unescapeText(raw));
}

/** A value (or NULL) as a raw field. */
export function encodeField(value: string | null, syntax: CopyTextSyntax): string {
  if (value === null) return syntax.nullString;
  const bytes = latin1(value, 'utf8');
  return syntax.csv ? quoteCsv(bytes, syntax) : escapeText(bytes, syntax);
}

function unquoteCsv(raw: string, syntax: CopyTextSyntax): string {
  let out = '';
  let quoted = false;
  for (let index = 0; index < raw.length; index += 1) {
    const character = raw[index] as string;
    const next = raw[index + 1];
    if (!quoted) {
      if (character === syntax.quote) quoted = true;
      else out += character;
      continue;
    }
    // Inside quotes the escape character makes the next quote or escape literal; with escape =
    // quote that is the doubled quote.
    if (character === syntax.escape && (next === syntax.quote || next === syntax.escape) && next !== undefined) {
      if (syntax.escape !== syntax.quote || next === syntax.quote) {
        out += next;
        index += 1;
        continue;
      }
    }
    if (character === syntax.quote) quoted = false;
    else out += character;
  }
  return out;
}

function quoteCsv(bytes: string, syntax: CopyTextSyntax): string {
  const needsQuotes =
    bytes === syntax.nullString ||
    bytes === '\\.' ||
    bytes.includes(syntax.delimiter) ||
    bytes.includes(syntax.quote) ||
    bytes.includes('\n') ||
    bytes.includes('\r');
  if (!needsQuotes) return bytes;
  let out = syntax.quote;
  for (const character of bytes) {
    if (character === syntax.quote || character === syntax.escape) out += syntax.escape;
    out += character;
  }
  return out + syntax.quote;
}

const TEXT_ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

function unescapeText(raw: string): string {
  let out = '';
  for (let index = 0; index < raw.length; index += 1) {
    const character = raw[index] as string;
    if (character !== '\\' || index + 1 >= raw.length) {
      out += character;
      continue;
    }
    const next = raw[index + 1] as string;
    const octal = /^[0-7]{1,3}/.exec(raw.slice(index + 1, index + 4));
    const hex = next === 'x' ? /^[0-9a-fA-F]{1,2}/.exec(raw.slice(index + 2, index + 4)) : null;
    if (octal) {
      out += String.fromCharCode(parseInt(octal[0], 8) & 0xff);
      index += octal[0].length;
    } else if (hex) {
      out += String.fromCharCode(parseInt(hex[0], 16));
      index += 1 + hex[0].length;
    } else {
      out += TEXT_ESCAPES[next] ?? next;
      index += 1;
    }
  }
  return out;
}

function escapeText(bytes: string, syntax: CopyTextSyntax): string {
  let out = '';
  for (const character of bytes) {
    if (character === '\\') out += '\\\\';
    else if (character === '\n') out += '\\n';
    else if (character === '\r') out += '\\r';
    else if (character === '\t') out += '\\t';
    else if (character === '\b') out += '\\b';
    else if (character === '\f') out += '\\f';
    else if (character === '\v') out += '\\v';
    else if (character === syntax.delimiter) out += `\\${character}`;
    else out += character;
  }
  return out;
}

/** latin1 view (one character per byte) of a string's UTF-8 bytes, or of a latin1 string. */
function latin1(text: string, from: 'utf8' | 'latin1' = 'utf8'): string {
  return Buffer.from(text, from).toString('latin1');
}

function utf8(latin1View: string): string {
  return Buffer.from(latin1View, 'latin1').toString('utf8');
}
