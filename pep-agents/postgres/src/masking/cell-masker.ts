/**
 * One cell at a time: a column's mask strategy applied in the cell's wire format, or, for a cell
 * no obligation covers, the value detectors (defense in depth).
 *
 * Binary format: int2/int4/int8/oid, float4/float8, bool, uuid, bytea, text types, json and jsonb
 * are rewritten in kind (a redacted int is 0, a hashed int a 31-bit pseudonym wrapped to the
 * column's width, a redacted bytea empty); any other binary type has no safe rewrite here and a
 * masked cell of it is sent as NULL (length -1), which every type accepts.
 */
import type { MaskStrategyRegistry, ValueScrubber } from '@portcullis/pep-core';
import { binaryToText, textToBinary } from './binary-values.ts';
import type { Cell } from './data-row-cells.ts';
import { binaryIsText, mayHoldFreeText, PG_TYPE, textReplacementType } from './pg-value-types.ts';

export const TEXT_FORMAT = 0;
export const BINARY_FORMAT = 1;

/** Type OID 0: the type is not known (COPY rows): the value is handled as text. */
export const UNKNOWN_TYPE = 0;

export class CellMasker {
  constructor(
    private readonly strategies: MaskStrategyRegistry,
    private readonly scrubber: ValueScrubber,
  ) {}

  /** The cell as `strategy` hides it; NULL stays NULL. */
  mask(cell: Cell, strategy: string, typeOid: number, format: number): Cell {
    if (cell === null) return null;
    return format === BINARY_FORMAT ? this.maskBinary(cell, strategy, typeOid) : this.maskTextCell(cell, strategy, typeOid);
  }

  /**
   * Whether `scrub` leaves every cell of this type and format as it is (no detectors, or a type
   * that holds no free text): the relay then passes such rows without reading them.
   */
  neverScrubs(typeOid: number, format: number): boolean {
    if (!this.scrubber.detects) return true;
    if (typeOid === UNKNOWN_TYPE || mayHoldFreeText(typeOid)) return false;
    return format !== BINARY_FORMAT || (!binaryIsText(typeOid) && typeOid !== PG_TYPE.bytea);
  }

  /** The cell with detected values replaced, or undefined when nothing was found. */
  scrub(cell: Cell, typeOid: number, format: number): Cell | undefined {
    if (cell === null) return undefined;
    if (format === BINARY_FORMAT) return this.scrubBinary(cell, typeOid);
    if (typeOid !== UNKNOWN_TYPE && !mayHoldFreeText(typeOid)) return undefined;
    const { bytes, spans } = this.scrubber.scrubBytes(cell);
    return spans.length === 0 ? undefined : bytes;
  }

  /** A text value (a COPY field): the strategy's text, or null for SQL NULL. */
  maskText(value: string, strategy: string): string | null {
    return this.strategies.get(strategy).maskText(value, 'text');
  }

  /** A text value with detected values replaced, or undefined when nothing was found. */
  scrubText(value: string): string | undefined {
    const { text, spans } = this.scrubber.scrubText(value);
    return spans.length === 0 ? undefined : text;
  }

  /** Whether a binary cell of a type without a text form shows a detectable value. */
  detectsInOpaqueBytes(cell: Buffer): boolean {
    return this.scrubber.find(cell.toString('latin1')).length > 0;
  }

  private maskTextCell(cell: Buffer, strategy: string, typeOid: number): Cell {
    const type = typeOid === UNKNOWN_TYPE ? 'text' : textReplacementType(typeOid);
    if (type === undefined) return null;
    const value = cell.toString('utf8');
    const masked = this.strategies.get(strategy).maskText(value, type);
    return masked === null ? null : Buffer.from(masked, 'utf8');
  }

  private maskBinary(cell: Buffer, strategy: string, typeOid: number): Cell {
    const text = binaryToText(typeOid, cell);
    if (text === undefined) return null;
    const type = textReplacementType(typeOid);
    if (type === undefined) return null;
    const masked = this.strategies.get(strategy).maskText(text, type);
    if (masked === null) return null;
    return textToBinary(typeOid, masked) ?? null;
  }

  private scrubBinary(cell: Buffer, typeOid: number): Cell | undefined {
    if (binaryIsText(typeOid)) {
      const text = binaryToText(typeOid, cell);
      if (text === undefined) return undefined;
      const scrubbed = this.scrubText(text);
      return scrubbed === undefined ? undefined : (textToBinary(typeOid, scrubbed) ?? null);
    }
    if (!mayHoldFreeText(typeOid) && typeOid !== PG_TYPE.bytea) return undefined;
    // An opaque binary value (an array, a composite, an extension type) that shows one: NULL.
    return this.detectsInOpaqueBytes(cell) ? null : undefined;
  }
}
