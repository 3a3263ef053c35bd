/**
 * Work handed to a thread in batches, done a few items at a time with a turn of the event loop
 * between slices. A batch done in one go forms a convoy: every item waits for the last before the
 * next stage (a write, an fsync, an answer) starts on any of them, and the stages of a pipeline
 * then take turns instead of overlapping. Slices let the next stage start on the first items.
 */
export class SlicedWorkQueue<Item> {
  private readonly batches: Item[][] = [];
  private scheduled = false;

  /** `work` does one slice of items, in order; `sliceSize` items at most before yielding. */
  constructor(private readonly sliceSize: number, private readonly work: (slice: readonly Item[]) => void) {
    if (!Number.isInteger(sliceSize) || sliceSize < 1) throw new Error('slice size must be a positive integer');
  }

  /** Takes the batch over (it is consumed in place). */
  push(batch: Item[]): void {
    if (batch.length === 0) return;
    this.batches.push(batch);
    if (!this.scheduled) this.runSlice();
  }

  /** Nothing queued: every batch handed over is done. */
  get idle(): boolean {
    return this.batches.length === 0;
  }

  /** Does everything queued now, in order, before returning: for a flush or close that must follow it. */
  drainNow(): void {
    while (this.batches.length > 0) this.doSlice();
  }

  private runSlice(): void {
    this.scheduled = false;
    this.doSlice();
    if (this.batches.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.runSlice());
    }
  }

  private doSlice(): void {
    const batch = this.batches[0];
    if (!batch) return;
    const slice = batch.length <= this.sliceSize ? batch : batch.splice(0, this.sliceSize);
    if (slice === batch) this.batches.shift();
    this.work(slice);
  }
}
