/**
 * Buffers that are side by side in the same memory (views of one socket read), joined into one
 * view each, without a copy; the others as they are, in order.
 */
export function adjacentRuns(buffers: readonly Buffer[]): Buffer[] {
  if (buffers.length === 1) return [buffers[0]!];
  const runs: Buffer[] = [];
  let first = buffers[0]!;
  let length = first.length;
  let joined = false;
  const close = (): void => {
    runs.push(joined ? Buffer.from(first.buffer, first.byteOffset, length) : first);
  };
  for (let index = 1; index < buffers.length; index += 1) {
    const next = buffers[index]!;
    if (next.buffer === first.buffer && next.byteOffset === first.byteOffset + length) {
      length += next.length;
      joined = true;
      continue;
    }
    close();
    first = next;
    length = next.length;
    joined = false;
  }
  close();
  return runs;
}
