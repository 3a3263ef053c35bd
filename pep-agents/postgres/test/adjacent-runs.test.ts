import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adjacentRuns } from '../src/session/adjacent-runs.ts';

describe('messages relayed from one read leave as one view of it', () => {
  const read = Buffer.from('T....D....C....Z....');
  const views = [0, 5, 10, 15].map((start) => read.subarray(start, start + 5));

  it('joins views side by side in the same memory into one, without copying', () => {
    const runs = adjacentRuns(views);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.toString(), 'T....D....C....Z....');
    assert.equal(runs[0]!.buffer, read.buffer, 'a view of the read, not a copy');
    assert.equal(runs[0]!.byteOffset, read.byteOffset);
  });

  it('keeps apart what is not side by side (a masked row, a gap, another read), in order', () => {
    const masked = Buffer.from('D-masked');
    const runs = adjacentRuns([views[0]!, masked, views[2]!, views[3]!, views[1]!]);
    assert.deepEqual(
      runs.map((run) => run.toString()),
      ['T....', 'D-masked', 'C....Z....', 'D....'],
    );
    assert.equal(runs[0], views[0], 'a lone view is passed on as it is');
    assert.equal(runs[2]!.buffer, read.buffer);
  });

  it('passes a single buffer on as it is', () => {
    assert.equal(adjacentRuns([views[1]!])[0], views[1]);
  });
});
