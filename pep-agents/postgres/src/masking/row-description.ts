/** RowDescription, read as the masker needs it: where each column comes from and how it is sent. */
import { MessageBodyReader } from '../protocol/message-body-reader.ts';

export interface ResultField {
  readonly name: string;
  /** 0 when the column is not a plain column of a table (an expression). */
  readonly tableOid: number;
  readonly attnum: number;
  readonly typeOid: number;
  /** 0 text, 1 binary; a statement-level Describe says 0 for every column (Bind decides). */
  readonly format: number;
}

export function decodeRowDescription(body: Buffer): ResultField[] {
  const reader = new MessageBodyReader(body, 'RowDescription');
  const count = reader.int16();
  const fields: ResultField[] = [];
  for (let index = 0; index < count; index += 1) {
    const name = reader.cstring();
    const tableOid = reader.int32() >>> 0;
    const attnum = reader.int16();
    const typeOid = reader.int32() >>> 0;
    reader.int16(); // type size
    reader.int32(); // type modifier
    const format = reader.int16();
    fields.push({ name, tableOid, attnum, typeOid, format });
  }
  return fields;
}

/**
 * The wire format of each column: Bind's result-format codes when given (none = all text, one =
 * all columns, else one per column), otherwise what RowDescription says.
 */
export function effectiveFormats(fields: readonly ResultField[], bindFormats: readonly number[] | undefined): number[] {
  if (bindFormats === undefined) return fields.map((field) => field.format);
  return bindFormatCodes(fields.length, bindFormats);
}

/** Bind's codes spread over `count` columns. */
export function bindFormatCodes(count: number, bindFormats: readonly number[]): number[] {
  if (bindFormats.length === 1) return Array.from({ length: count }, () => bindFormats[0] as number);
  return Array.from({ length: count }, (_, index) => bindFormats[index] ?? 0);
}
