/**
 * How a result cell's type shows in text, as far as a masker must care: a replacement has to
 * parse as the column's type, or a client that decodes results breaks on a masked cell.
 * The protocol adapter maps its own type ids (Postgres OIDs …) onto these.
 */
export type MaskValueType = 'text' | 'number' | 'boolean' | 'date' | 'time' | 'timestamp' | 'timestamptz' | 'uuid' | 'json' | 'bytes';

/** One way of hiding a value. `null` stands for the protocol's NULL (Postgres: a -1 length cell). */
export interface MaskStrategy {
  readonly name: string;
  /** The replacement for one value in text form. */
  maskText(value: string, type?: MaskValueType): string | null;
  /** The same for a text-format value as bytes (UTF-8); binary-format cells need the null strategy. */
  maskBytes(value: Buffer, type?: MaskValueType): Buffer | null;
}
