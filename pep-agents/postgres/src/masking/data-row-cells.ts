/**
 * DataRow bodies as cells: int16 count, then per cell an int32 length (-1 = NULL) and its bytes.
 * Rewriting keeps every untouched cell's bytes as they came.
 */
import { MessageBodyReader } from '../protocol/message-body-reader.ts';

/** A cell's bytes, or null for SQL NULL. */
export type Cell = Buffer | null;

export function decodeDataRow(body: Buffer): Cell[] {
  const reader = new MessageBodyReader(body, 'DataRow');
  const count = reader.int16();
  const cells: Cell[] = [];
  for (let index = 0; index < count; index += 1) {
    const length = reader.int32();
    cells.push(length === -1 ? null : reader.bytes(length));
  }
  reader.end();
  return cells;
}

export function encodeDataRow(cells: readonly Cell[]): Buffer {
  let size = 2;
  for (const cell of cells) size += 4 + (cell?.length ?? 0);
  const body = Buffer.allocUnsafe(size);
  body.writeInt16BE(cells.length, 0);
  let offset = 2;
  for (const cell of cells) {
    if (cell === null) {
      body.writeInt32BE(-1, offset);
      offset += 4;
      continue;
    }
    body.writeInt32BE(cell.length, offset);
    offset += 4;
    cell.copy(body, offset);
    offset += cell.length;
  }
  return body;
}
