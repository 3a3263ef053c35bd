// A thread's batch is done a few items at a time, in order, with a turn of the event loop between
// slices (so a later stage starts on the first items), and all at once when a flush must follow it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlicedWorkQueue } from '../src/threads/sliced-work-queue.ts';

describe('SlicedWorkQueue', () => {
  it('does a batch in slices of at most the slice size, in order, yielding between them', async () => {
    const events: string[] = [];
    const queue = new SlicedWorkQueue<number>(4, (slice) => {
      events.push(`slice ${slice.join(',')}`);
      // What a slice sets going (a sink's write) runs before the next slice.
      if (slice[0] === 1) setImmediate(() => events.push('work the first slice started'));
    });
    queue.push([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(events, ['slice 1,2,3,4'], 'the first slice runs at once, the rest later');
    queue.push([11, 12]);
    while (events.length < 5) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(events, ['slice 1,2,3,4', 'work the first slice started', 'slice 5,6,7,8', 'slice 9,10', 'slice 11,12']);
  });

  it('drains everything queued, in order, before drainNow returns', () => {
    const done: number[] = [];
    const queue = new SlicedWorkQueue<number>(2, (slice) => done.push(...slice));
    queue.push([1, 2, 3, 4, 5]);
    queue.push([6, 7]);
    assert.deepEqual(done, [1, 2]);
    queue.drainNow();
    assert.deepEqual(done, [1, 2, 3, 4, 5, 6, 7]);
  });

  it('refuses a slice size that is not a positive integer', () => {
    assert.throws(() => new SlicedWorkQueue<number>(0, () => undefined), /positive integer/);
    assert.throws(() => new SlicedWorkQueue<number>(1.5, () => undefined), /positive integer/);
  });
});
