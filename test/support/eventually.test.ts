import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from './eventually.ts';

describe('eventually() waits for a condition and names it when it never holds', () => {
  it('returns the first answer that is true, after asking again through false answers and thrown assertions', async () => {
    let asked = 0;
    const value = await eventually('the third asking', () => {
      asked++;
      if (asked === 1) return undefined;
      if (asked === 2) assert.fail('not yet');
      return { asked };
    }, { intervalMs: 1 });
    assert.deepEqual(value, { asked: 3 });
    assert.equal(asked, 3);
  });

  it('fails naming what never became true and the last answer', async () => {
    await assert.rejects(
      eventually('the queue is empty', () => 0, { timeoutMs: 20, intervalMs: 1 }),
      (error: Error) => error.message === 'never became true within 20 ms: the queue is empty (its last answer: 0)',
    );
  });

  it('fails with the last assertion error as its cause', async () => {
    await assert.rejects(
      eventually('three rows', async () => assert.equal(2, 3, 'two rows'), { timeoutMs: 20, intervalMs: 1 }),
      (error: Error) => error.message.startsWith('never became true within 20 ms: three rows (its last error: two rows') && error.cause instanceof assert.AssertionError,
    );
  });
});
