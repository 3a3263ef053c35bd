import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digitRunsInBytes } from '../src/masking/digit-runs-in-bytes.ts';
import { digitRuns } from '../src/masking/digit-runs.ts';

/** Every run of digits joined by single spaces or dashes with at least `minDigits` digits, by a full regex scan. */
function everyRun(text: string, minDigits: number): number[] {
  const runs: number[] = [];
  for (const match of text.matchAll(/\d+(?:[ -]\d+)*/g)) {
    if (match[0].replace(/\D/g, '').length >= minDigits) runs.push(match.index, match.index + match[0].length);
  }
  return runs;
}

// A small deterministic generator, so a failure names a text that can be replayed.
function texts(count: number, seed: number): string[] {
  let state = seed;
  const next = (below: number): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % below;
  };
  const alphabet = '0123456789012345678901234567890123456789  --a:\n';
  return Array.from({ length: count }, () => Array.from({ length: next(120) }, () => alphabet[next(alphabet.length)]).join(''));
}

describe('digit runs (where detectors of long numbers look)', () => {
  it('finds exactly the runs a full scan finds, whatever character the probes land on', () => {
    for (const minDigits of [1, 2, 5, 13, 15]) {
      for (const text of texts(3000, minDigits)) assert.deepEqual(digitRuns(text, minDigits), everyRun(text, minDigits), `${minDigits} in ${JSON.stringify(text)}`);
    }
  });

  it('finds runs at the text\'s edges, across separators, and just long enough', () => {
    assert.deepEqual(digitRuns('4111111111111', 13), [0, 13]);
    assert.deepEqual(digitRuns('x 4111 1111 1111 1', 13), [2, 18]);
    assert.deepEqual(digitRuns('411111111111', 13), [], 'twelve digits');
    assert.deepEqual(digitRuns('4111 1111--1111 1111 1111 1111', 13), [11, 30], 'a doubled separator ends a run');
    const log = '2026-12-06T10:00:25Z worker-3 batch 7919 in 5 ms\n'.repeat(40);
    assert.deepEqual(digitRuns(`${log}paid 4111 1111 1111 1111\n`, 13), [log.length + 5, log.length + 24]);
  });
});

describe('digit runs in bytes (the same search on a byte stream\'s chunk)', () => {
  it('finds exactly the runs the search on the bytes\' latin1 view finds', () => {
    for (const minDigits of [1, 2, 5, 13, 15]) {
      for (const text of texts(3000, 100 + minDigits)) {
        const bytes = Buffer.from(text, 'latin1');
        assert.deepEqual(digitRunsInBytes(bytes, minDigits), everyRun(text, minDigits), `${minDigits} in ${JSON.stringify(text)}`);
      }
    }
    const log = Buffer.from(`${'2026-12-06T10:00:25Z worker-3 batch 7919 in 5 ms\n'.repeat(40)}paid 4111 1111 1111 1111\n`, 'latin1');
    assert.deepEqual(digitRunsInBytes(log, 13), digitRuns(log.toString('latin1'), 13));
  });
});
