/**
 * Which target-list item each result column belongs to. Without a star the columns are the
 * items, one to one. A star expands into an unknown number of columns, so the items before the
 * first star take the first columns, the items after the last star the last ones, and every
 * column between belongs to the whole middle stretch (its stars and whatever sits between them).
 * Any disagreement in numbers means the columns cannot be placed.
 */
import type { StatementOutput } from './statement-result-facts.ts';

export type ColumnOrigin =
  | { readonly kind: 'item'; readonly output: StatementOutput }
  /** A column somewhere in a star's expansion; `star` is set when the stretch is that one star alone. */
  | { readonly kind: 'stretch'; readonly outputs: readonly StatementOutput[]; readonly star: StatementOutput | null; readonly position: number; readonly width: number }
  | { readonly kind: 'unknown' };

const UNKNOWN: ColumnOrigin = { kind: 'unknown' };

export function mapColumnsToOutputs(columnCount: number, outputs: readonly StatementOutput[] | null | undefined): ColumnOrigin[] {
  if (!outputs) return Array.from({ length: columnCount }, () => UNKNOWN);
  const stars = outputs.flatMap((output, index) => (output.star ? [index] : []));
  if (stars.length === 0) {
    if (outputs.length !== columnCount) return Array.from({ length: columnCount }, () => UNKNOWN);
    return outputs.map((output) => ({ kind: 'item', output }));
  }
  const first = stars[0] as number;
  const last = stars[stars.length - 1] as number;
  const leading = first;
  const trailing = outputs.length - 1 - last;
  if (leading + trailing > columnCount) return Array.from({ length: columnCount }, () => UNKNOWN);
  const stretch = outputs.slice(first, last + 1);
  const width = columnCount - leading - trailing;
  const alone = stretch.length === 1 ? (stretch[0] as StatementOutput) : null;
  return Array.from({ length: columnCount }, (_, column): ColumnOrigin => {
    if (column < leading) return { kind: 'item', output: outputs[column] as StatementOutput };
    if (column >= leading + width) return { kind: 'item', output: outputs[last + 1 + (column - leading - width)] as StatementOutput };
    return { kind: 'stretch', outputs: stretch, star: alone, position: column - leading, width };
  });
}
