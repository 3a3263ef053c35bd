import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoTimeOf } from '../src/iso-time.ts';

describe('isoTimeOf', () => {
  it('is toISOString for every millisecond of a second, in and out of order, and across seconds, days and years', () => {
    const starts = [Date.UTC(2026, 11, 7, 11, 30, 22), Date.UTC(2026, 11, 31, 23, 59, 59), 0, -1000, Date.UTC(9999, 11, 31, 23, 59, 59), Date.UTC(10000, 0, 1)];
    for (const start of starts) {
      for (let ms = start; ms < start + 1000; ms += 1) assert.equal(isoTimeOf(ms), new Date(ms).toISOString(), String(ms));
      for (const ms of [start + 999, start, start + 1000, start - 1, start + 5]) assert.equal(isoTimeOf(ms), new Date(ms).toISOString(), String(ms));
    }
  });
});
