/**
 * Within a candidate like `4111 1111 1111 1111 12`, finds the runs of whole groups (split at
 * separators) that validate, longest first, so a valid number next to other digits is still
 * found. `isValid` gets the compact value and the run's `[from, to)` in `text` (to judge its
 * layout and what surrounds it). Returns `[start, end)` offsets into `text`.
 */
export function findValidGroupRuns(
  text: string,
  start: number,
  end: number,
  isSeparator: (code: number) => boolean,
  compactLength: { readonly min: number; readonly max: number },
  isValid: (compact: string, from: number, to: number) => boolean,
): Array<[number, number]> {
  const groups: Array<[number, number]> = [];
  let groupStart = -1;
  for (let index = start; index <= end; index += 1) {
    const separator = index === end || isSeparator(text.charCodeAt(index));
    if (separator && groupStart !== -1) {
      groups.push([groupStart, index]);
      groupStart = -1;
    } else if (!separator && groupStart === -1) {
      groupStart = index;
    }
  }
  const lengthBefore = [0];
  for (const [from, to] of groups) lengthBefore.push(lengthBefore.at(-1)! + (to - from));

  const found: Array<[number, number]> = [];
  const search = (low: number, high: number): void => {
    for (let size = high - low; size >= 1; size -= 1) {
      for (let first = low; first + size <= high; first += 1) {
        const length = lengthBefore[first + size]! - lengthBefore[first]!;
        if (length < compactLength.min || length > compactLength.max) continue;
        const compact = groups.slice(first, first + size).map(([from, to]) => text.slice(from, to)).join('');
        if (!isValid(compact, groups[first]![0], groups[first + size - 1]![1])) continue;
        found.push([groups[first]![0], groups[first + size - 1]![1]]);
        search(low, first);
        search(first + size, high);
        return;
      }
    }
  };
  search(0, groups.length);
  return found.sort((a, b) => a[0] - b[0]);
}
