import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instantOf } from '../src/instant-of.ts';

describe('instantOf', () => {
  it('is Date.parse, remembered: the same instant for a text asked again, NaN for what Date.parse cannot read', () => {
    const texts = ['2026-12-07T10:00:00.000Z', '2026-12-07T11:00:00+01:00', 'not a time', '', '2026-02-30T00:00:00Z'];
    for (let round = 0; round < 3; round += 1) {
      for (const text of texts) assert.deepEqual(instantOf(text), Date.parse(text), text);
    }
  });

  it('stays right past the texts it remembers', () => {
    for (let minute = 0; minute < 200; minute += 1) {
      const text = new Date(Date.UTC(2026, 11, 7, 0, minute)).toISOString();
      assert.equal(instantOf(text), Date.parse(text));
      assert.equal(instantOf(text), Date.UTC(2026, 11, 7, 0, minute));
    }
  });
});
